import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import * as projections from '../../src/projections/index.js';
import * as store from '../../src/store/index.js';

/*
 * Issue 16 steps 3 and 8 moved code between folders (verify to src/store, which also passes
 * on the book-snapshot check it runs; the replaced-file follower into src/store; the
 * read-model options and startProjections within src/projections): the public API keeps
 * every name, now from its new room.
 */
describe('what issue 16 moved is still public', () => {
  it('verifyLog (and the snapshot check it runs) come from src/store, and from the package', () => {
    expect(api.verifyLog).toBe(store.verifyLog);
    expect(api.checkBookSnapshot).toBe(store.checkBookSnapshot);
    expect('verifyLog' in projections).toBe(false);
  });

  it('the replaced-file follower is a store decorator', () => {
    expect(api.followReplacedFile).toBe(store.followReplacedFile);
    expect(api.FollowedStore).toBe(store.FollowedStore);
  });

  it('startProjections, the projection options and the read-model options come from src/projections', () => {
    expect(api.startProjections).toBe(projections.startProjections);
    expect(api.ProjectionOptions).toBe(projections.ProjectionOptions);
    expect(api.ReadModelOptions).toBe(projections.ReadModelOptions);
    expect(typeof api.projectionOptionsOf).toBe('function');
  });
});
