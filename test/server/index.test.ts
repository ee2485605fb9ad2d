import { describe, expect, it } from 'vitest';
import * as server from '../../src/server/index.js';

describe('src/server public API', () => {
  it('exports exactly these names (change on purpose only)', () => {
    expect(Object.keys(server).sort()).toEqual([
      'API_PREFIX',
      'ClientSession',
      'DEFAULT_LIMITS',
      'KEYS_MAGIC',
      'KEYS_VERSION',
      'MODEL_ID_PATTERN',
      'Metrics',
      'PannClient',
      'PannServer',
      'describeModel',
      'digitFromPng',
      'encodeKeyUpload',
      'formatLogLine',
      'inputSlots',
      'joinSealObjects',
      'outputValues',
      'parseKeyUpload',
      'parseModelDescription',
      'percentile',
      'resolveLimits',
      'sessionMemoryBytes',
      'splitSealObjects',
      'summariseLatencies',
    ]);
  });
});
