#!/usr/bin/env python3
"""The librosa reference fixtures the Mel front end is tested against.

Writes the filter banks, four 3 s cases (inputs, Mel power, dB, model input)
and fixtures.json into --out, in the layout the tests read from
$AER_SHARED_DIR/fixtures/librosa. With --check REF it then compares what it
wrote with an existing fixture folder, to the tolerances the README gives,
and exits 1 when they disagree: how a new librosa is vetted before its
fixtures replace the old ones.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy
import scipy.signal

SR = 22050
N_FFT = 2048
N_MELS = 128
SAMPLES = 3 * SR  # one model window: 66150 samples, 130 frames
SPEECH_TEXT = "Der Lappen liegt auf dem Eisschrank. Das will sie am Mittwoch abgeben."


def chirp() -> np.ndarray:
    """A linear sweep from 100 Hz to 8 kHz at half scale."""
    t = np.arange(SAMPLES) / SR
    return (0.5 * scipy.signal.chirp(t, f0=100, f1=8000, t1=3, method="linear", phi=0)).astype(np.float32)


def noise() -> np.ndarray:
    """Uniform white noise, peaks at -20 dBFS, from a fixed seed."""
    return (0.1 * np.random.default_rng(1234).uniform(-1, 1, SAMPLES)).astype(np.float32)


def window(y: np.ndarray) -> np.ndarray:
    """The first 3 s, zero-padded when the source is shorter."""
    out = np.zeros(SAMPLES, dtype=np.float32)
    n = min(len(y), SAMPLES)
    out[:n] = y[:n]
    return out


def make_speech(work: Path) -> Path:
    """Speech at espeak-ng's native 22050 Hz, 16-bit mono (a German sentence, as in EmoDB)."""
    if shutil.which("espeak-ng") is None:
        sys.exit("generate.py: no --speech given and espeak-ng is not installed (apt-get install espeak-ng, or pass --speech FILE.wav)")
    path = work / "speech_22050.wav"
    subprocess.run(["espeak-ng", "-v", "de", "-s", "150", "-w", str(path), SPEECH_TEXT], check=True)
    return path


def make_speech_48k(speech: Path, work: Path) -> Path:
    """The same speech at 48 kHz, for the resampler case; sox's very-high-quality rate, no dither so reruns agree."""
    if shutil.which("sox") is None:
        sys.exit("generate.py: no --speech-48k given and sox is not installed (apt-get install sox, or pass --speech-48k FILE.wav)")
    path = work / "speech_48000.wav"
    subprocess.run(["sox", str(speech), "-D", str(path), "rate", "-v", "48000"], check=True)
    return path


def write_f32(out: Path, name: str, array: np.ndarray, desc: str, files: dict, **extra) -> None:
    data = np.ascontiguousarray(array, dtype="<f4")
    data.tofile(out / name)
    files[name] = {"shape": list(data.shape), "desc": desc, **extra}


def write_case(librosa, out: Path, case: str, y: np.ndarray, files: dict) -> None:
    import soundfile

    write_f32(out, f"{case}.input.f32", y, f"float32 samples at {SR} Hz fed to melspectrogram", files)
    soundfile.write(out / f"{case}.input.wav", y, SR, subtype="FLOAT")
    s = librosa.feature.melspectrogram(y=y, sr=SR)
    write_f32(out, f"{case}.mel_power.f32", s, "melspectrogram power, (n_mels, frames)", files)
    s_db = librosa.power_to_db(s, ref=np.max)
    # How far float32 arithmetic alone moves the dB values: the floor any float32 port can reach.
    recompute = float(np.abs(librosa.power_to_db(s.astype(np.float64), ref=np.max) - s_db).max())
    write_f32(out, f"{case}.mel_db.f32", s_db, "power_to_db(S, ref=np.max), top_db=80, (n_mels, frames)", files, float32_recompute_max_abs_db=recompute)
    features = ((s_db - s_db.mean()) / s_db.std()).T
    write_f32(out, f"{case}.features.f32", features, "z-scored S_db transposed: (frames, n_mels) = model input", files)


def generate(out: Path, speech: Path, speech_48k: Path) -> None:
    import librosa
    import resampy

    out.mkdir(parents=True, exist_ok=True)
    files: dict = {}
    write_f32(out, "mel_fb_22050_2048_128.f32", librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS), f"librosa.filters.mel(sr={SR}, n_fft={N_FFT}, n_mels={N_MELS}), row-major (n_mels, 1+n_fft/2)", files)
    write_f32(out, "mel_fb_16000_512_64.f32", librosa.filters.mel(sr=16000, n_fft=512, n_mels=64), "librosa.filters.mel(sr=16000, n_fft=512, n_mels=64)", files)

    native, rate = librosa.load(speech, sr=None, mono=True)
    if rate != SR:
        sys.exit(f"generate.py: --speech must be {SR} Hz (it is {rate} Hz): it is the native-rate case")
    resampled, _ = librosa.load(speech_48k, sr=SR, mono=True, res_type="kaiser_best")
    for case, y in (("chirp", chirp()), ("noise", noise()), ("speech", window(native)), ("speech48k_resampled", window(resampled))):
        write_case(librosa, out, case, y, files)

    if speech.resolve() != (out / "speech_22050.wav").resolve():
        shutil.copyfile(speech, out / "speech_22050.wav")
    if speech_48k.resolve() != (out / "speech_48000.wav").resolve():
        shutil.copyfile(speech_48k, out / "speech_48000.wav")
    meta = {
        "librosa": librosa.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "resampler": f"speech48k_resampled: librosa.resample(res_type='kaiser_best', via resampy {resampy.__version__}) of speech_48000.wav",
        "files": files,
    }
    (out / "fixtures.json").write_text(json.dumps(meta, indent=1) + "\n")


# Each file kind against the reference: (statistic, limit). dB limits follow the README; power is relative to the clip's peak.
def compare(name: str, new: np.ndarray, ref: np.ndarray) -> tuple[str, float, float]:
    diff = np.abs(new.astype(np.float64) - ref.astype(np.float64))
    if name.startswith("mel_fb_"):
        return ("max abs", float(diff.max()), 1e-6)
    if name.endswith(".input.f32"):
        return ("max abs", float(diff.max()), 1e-4 if name.startswith("speech48k") else 0.0)
    if name.endswith(".mel_power.f32"):
        return ("max abs / peak", float(diff.max() / np.abs(ref).max()), 1e-4)
    if name.endswith(".mel_db.f32"):
        return ("mean abs dB", float(diff.mean()), 0.01)
    return ("max abs", float(diff.max()), 0.01)


def check(out: Path, ref: Path) -> bool:
    meta = json.loads((out / "fixtures.json").read_text())
    ok = True
    for name, info in meta["files"].items():
        ref_file = ref / name
        if not ref_file.exists():
            print(f"{name}: not in {ref} (new)")
            continue
        new = np.fromfile(out / name, dtype="<f4")
        old = np.fromfile(ref_file, dtype="<f4")
        if new.shape != old.shape:
            print(f"{name}: {new.size} values, the reference has {old.size}  FAIL")
            ok = False
            continue
        stat, value, limit = compare(name, new, old)
        good = value <= limit
        ok = ok and good
        print(f"{name}: {stat} {value:.3g} (limit {limit:g})  {'ok' if good else 'FAIL'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the fixtures into (created)")
    parser.add_argument("--speech", type=Path, help=f"16-bit mono WAV at {SR} Hz, at least 3 s (default: a sentence from espeak-ng)")
    parser.add_argument("--speech-48k", type=Path, help="the same speech at 48 kHz (default: --speech through sox rate -v 48000)")
    parser.add_argument("--check", type=Path, metavar="REF", help="compare the output with this fixture folder; exit 1 on disagreement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        speech = args.speech or make_speech(work)
        speech_48k = args.speech_48k or make_speech_48k(speech, work)
        generate(args.out, speech, speech_48k)
    print(f"fixtures written to {args.out}")
    if args.check is not None and not check(args.out, args.check):
        sys.exit(1)


if __name__ == "__main__":
    main()
