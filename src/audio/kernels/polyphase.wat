;; The polyphase resampler's inner loop (src/audio/resample.ts), with wasm SIMD:
;; for each output, the dot product of one phase's taps with the input under
;; them, four taps at a time. Assembled by scripts/build-wasm.ts into
;; polyphase.wasm; test/audio/kernels.test.ts checks the two match.
(module
  (memory (export "memory") 1)

  ;; out[o] = sum_k coef[phase * taps + k] * buf[start + k], for o in [0, count),
  ;; then start += step, phase += carry, and when phase reaches L: phase -= L, start += 1.
  ;; Pointers are byte offsets into memory; taps is a multiple of 4.
  (func (export "run")
    (param $coef i32) (param $taps i32) (param $L i32) (param $step i32) (param $carry i32)
    (param $buf i32) (param $start i32) (param $phase i32) (param $out i32) (param $count i32)
    (local $o i32) (local $c i32) (local $b i32) (local $end i32) (local $rowBytes i32) (local $acc v128)
    (local.set $rowBytes (i32.shl (local.get $taps) (i32.const 2)))
    (block $done
      (loop $outputs
        (br_if $done (i32.ge_u (local.get $o) (local.get $count)))
        (local.set $c (i32.add (local.get $coef) (i32.mul (local.get $phase) (local.get $rowBytes))))
        (local.set $b (i32.add (local.get $buf) (i32.shl (local.get $start) (i32.const 2))))
        (local.set $end (i32.add (local.get $c) (local.get $rowBytes)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (loop $taps
          (local.set $acc
            (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load align=4 (local.get $c)) (v128.load align=4 (local.get $b)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (br_if $taps (i32.lt_u (local.get $c) (local.get $end))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $o) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $start (i32.add (local.get $start) (local.get $step)))
        (local.set $phase (i32.add (local.get $phase) (local.get $carry)))
        (if (i32.ge_u (local.get $phase) (local.get $L))
          (then
            (local.set $phase (i32.sub (local.get $phase) (local.get $L)))
            (local.set $start (i32.add (local.get $start) (i32.const 1)))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $outputs))))

  ;; As run, for ratios with too many phases for a table of their own: the
  ;; table has P + 1 rows at fractional positions j / P, and each output
  ;; interpolates linearly between the two rows around phase / L.
  (func (export "run_interpolated")
    (param $coef i32) (param $taps i32) (param $L i32) (param $step i32) (param $carry i32)
    (param $buf i32) (param $start i32) (param $phase i32) (param $out i32) (param $count i32) (param $P i32)
    (local $o i32) (local $c i32) (local $b i32) (local $end i32) (local $rowBytes i32)
    (local $x f64) (local $row i32) (local $a f32) (local $d0 f32) (local $d1 f32)
    (local $acc0 v128) (local $acc1 v128)
    (local.set $rowBytes (i32.shl (local.get $taps) (i32.const 2)))
    (block $done
      (loop $outputs
        (br_if $done (i32.ge_u (local.get $o) (local.get $count)))
        (local.set $x
          (f64.div (f64.mul (f64.convert_i32_u (local.get $phase)) (f64.convert_i32_u (local.get $P)))
                   (f64.convert_i32_u (local.get $L))))
        (local.set $row (i32.trunc_f64_u (local.get $x)))
        (local.set $a (f32.demote_f64 (f64.sub (local.get $x) (f64.convert_i32_u (local.get $row)))))
        (local.set $c (i32.add (local.get $coef) (i32.mul (local.get $row) (local.get $rowBytes))))
        (local.set $b (i32.add (local.get $buf) (i32.shl (local.get $start) (i32.const 2))))
        (local.set $end (i32.add (local.get $c) (local.get $rowBytes)))
        (local.set $acc0 (v128.const f32x4 0 0 0 0))
        (local.set $acc1 (v128.const f32x4 0 0 0 0))
        (loop $taps
          (local.set $acc0
            (f32x4.add (local.get $acc0)
              (f32x4.mul (v128.load align=4 (local.get $c)) (v128.load align=4 (local.get $b)))))
          (local.set $acc1
            (f32x4.add (local.get $acc1)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $c) (local.get $rowBytes))) (v128.load align=4 (local.get $b)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (br_if $taps (i32.lt_u (local.get $c) (local.get $end))))
        (local.set $d0
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
        (local.set $d1
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc1)) (f32x4.extract_lane 1 (local.get $acc1)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc1)) (f32x4.extract_lane 3 (local.get $acc1)))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $o) (i32.const 2)))
          (f32.add (local.get $d0) (f32.mul (local.get $a) (f32.sub (local.get $d1) (local.get $d0)))))
        (local.set $start (i32.add (local.get $start) (local.get $step)))
        (local.set $phase (i32.add (local.get $phase) (local.get $carry)))
        (if (i32.ge_u (local.get $phase) (local.get $L))
          (then
            (local.set $phase (i32.sub (local.get $phase) (local.get $L)))
            (local.set $start (i32.add (local.get $start) (i32.const 1)))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $outputs)))))
