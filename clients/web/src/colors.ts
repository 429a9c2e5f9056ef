/** One colour per emotion, the same in every view. */
const COLORS: Record<string, string> = { angry: '#ff5d5d', disgust: '#9bc53d', fear: '#a56bff', happy: '#ffc43d', neutral: '#9aa3b5', sad: '#4c8dff' };

export function colorOf(label: string): string {
  return COLORS[label] ?? '#5b8cff';
}
