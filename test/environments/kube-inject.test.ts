import { describe, expect, it } from 'vitest';
import { parsePodSource } from '../../lib/environments/kind/kube-inject';

describe('parsePodSource (inject: from: pod/...)', () => {
  it('reads pod/NAME and pod/NAMESPACE/NAME', () => {
    expect(parsePodSource('pod/luke')).toEqual({ namespace: 'default', name: 'luke' });
    expect(parsePodSource('pod/fleet/red-leader')).toEqual({ namespace: 'fleet', name: 'red-leader' });
  });

  it('leaves host names to the Docker driver and refuses what is not a pod name', () => {
    expect(parsePodSource('workstation')).toBeUndefined();
    for (const bad of ['pod/', 'pod/UPPER', 'pod/a/b/c', 'pod/-x', 'pod/x;rm']) expect(parsePodSource(bad)).toBeUndefined();
  });
});
