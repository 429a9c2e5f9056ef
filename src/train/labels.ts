/** The six emotion classes of the AER-Net recipe, in the model's output order. */
export const LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'] as const;
export type Label = (typeof LABELS)[number];

export function isLabel(value: string): value is Label {
  return (LABELS as readonly string[]).includes(value);
}
