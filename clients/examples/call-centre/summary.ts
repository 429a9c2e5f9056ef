/** A call's summary per speaker: speech time, time per emotion, the dominant one, changes and alerts. */
import type { ChangeMessage } from '../../js/src/index.ts';
import type { Segment } from './segments.ts';

export interface Alert {
  at_s: number;
  speaker: string;
  label: string;
  confidence: number;
  message: string;
}

export interface SpeakerSummary {
  speaker: string;
  speech_s: number;
  /** Seconds of speech per label. */
  by_label: Record<string, number>;
  dominant: string | null;
  changes: number;
}

export interface CallSummary {
  file: string;
  duration_s: number;
  speakers: SpeakerSummary[];
  alerts: Alert[];
  lost_s: number;
}

export function summarise(
  file: string,
  durationS: number,
  speakers: string[],
  segments: Segment[],
  changes: ChangeMessage[],
  alerts: Alert[],
  lostS: number,
): CallSummary {
  return {
    file,
    duration_s: +durationS.toFixed(2),
    speakers: speakers.map((speaker, channel) => {
      const own = segments.filter((s) => s.channel === channel);
      const byLabel: Record<string, number> = {};
      for (const s of own) byLabel[s.label] = +((byLabel[s.label] ?? 0) + s.end_s - s.start_s).toFixed(2);
      const dominant = Object.keys(byLabel).reduce<string | null>((a, b) => (a === null || byLabel[b] > byLabel[a] ? b : a), null);
      return {
        speaker,
        speech_s: +own.reduce((t, s) => t + s.end_s - s.start_s, 0).toFixed(2),
        by_label: byLabel,
        dominant,
        changes: changes.filter((c) => c.channel === channel && c.from !== null).length,
      };
    }),
    alerts,
    lost_s: +lostS.toFixed(2),
  };
}

export function formatSummary(summary: CallSummary): string {
  const lines = [`call ${summary.file}: ${summary.duration_s.toFixed(1)} s`];
  for (const s of summary.speakers) {
    const shares = Object.entries(s.by_label)
      .sort((a, b) => b[1] - a[1])
      .map(([label, t]) => `${label} ${Math.round((100 * t) / Math.max(s.speech_s, 1e-9))} %`)
      .join(', ');
    lines.push(`  ${s.speaker.padEnd(9)} speech ${s.speech_s.toFixed(1)} s, mostly ${s.dominant ?? '-'} (${shares || 'no speech'}); ${s.changes} change(s)`);
  }
  lines.push(
    summary.alerts.length ? `  alerts: ${summary.alerts.map((a) => `${a.speaker} ${a.label} at ${a.at_s.toFixed(1)} s`).join('; ')}` : '  alerts: none',
  );
  if (summary.lost_s > 0) lines.push(`  not analysed (connection lost): ${summary.lost_s.toFixed(1)} s`);
  return lines.join('\n');
}
