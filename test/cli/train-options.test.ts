import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addTrainingOptions, type TrainingFlags, trainConfigFrom } from '../../src/cli/train-options.ts';

const configOf = (...args: string[]) => {
  const command = addTrainingOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  return trainConfigFrom(command.parse(args, { from: 'user' }).opts<TrainingFlags>());
};

describe('training options', () => {
  it('--lr-schedule cosine records the schedule; the plateau default records none, as recipes made before the option', () => {
    assert.equal(configOf('--lr-schedule', 'cosine').lrSchedule, 'cosine');
    assert.ok(!('lrSchedule' in configOf()));
    assert.ok(!('lrSchedule' in configOf('--lr-schedule', 'plateau')));
    assert.throws(() => configOf('--lr-schedule', 'linear'), /argument 'linear' is invalid.*plateau, cosine/);
  });

  it('--window-input spans records it; whole, the default, records none, as recipes made before the option', () => {
    assert.equal(configOf('--window-input', 'spans').windowInput, 'spans');
    assert.ok(!('windowInput' in configOf()));
    assert.ok(!('windowInput' in configOf('--window-input', 'whole')));
    assert.throws(() => configOf('--window-input', 'halves'), /argument 'halves' is invalid.*whole, spans/);
  });

  it('--mel-fmin records the lowest Mel band edge; 0, the default, records none, as recipes made before the option', () => {
    assert.equal(configOf('--mel-fmin', '100').melFmin, 100);
    assert.ok(!('melFmin' in configOf()));
    assert.ok(!('melFmin' in configOf('--mel-fmin', '0')));
    for (const bad of ['-5', '301', 'low']) assert.throws(() => configOf('--mel-fmin', bad), /--mel-fmin must be a number from 0 to 300/);
  });
});
