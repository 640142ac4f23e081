import { OffsetCommits, type PartitionOffset } from './offset-commits';

const at = (partition: number, offset: number): PartitionOffset => ({ topic: 'events', partition, offset: String(offset) });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves after the promise callbacks queued now have run, before any timer due later. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A commit function that records what each commit carried and when, taking `tookMs`. */
function recordingCommit(tookMs = 0) {
  const commits: { offsets: string[]; at: number }[] = [];
  const started = Date.now();
  const commit = async (offsets: PartitionOffset[]): Promise<void> => {
    commits.push({ offsets: offsets.map((offset) => `${offset.partition}@${offset.offset}`), at: Date.now() - started });
    if (tookMs > 0) await sleep(tookMs);
  };
  return { commits, commit };
}

describe('offset commits', () => {
  it('commits the first offsets at once, then at most once an interval, each partition at its highest', async () => {
    const { commits, commit } = recordingCommit();
    const offsets = new OffsetCommits(commit, 200);
    const first = offsets.after(at(0, 10));
    await first;
    const later = [offsets.after(at(0, 20)), offsets.after(at(1, 5)), offsets.after(at(0, 30))];
    await sleep(50);
    expect(commits.map((made) => made.offsets)).toEqual([['0@10']]);
    await Promise.all(later);
    expect(commits.map((made) => made.offsets)).toEqual([['0@10'], ['0@30', '1@5']]);
    expect(commits[1]!.at - commits[0]!.at).toBeGreaterThanOrEqual(190);
  });

  it('answers each caller once the commit carrying its offset is done, not a later one', async () => {
    const { commits, commit } = recordingCommit(30);
    const offsets = new OffsetCommits(commit, 100);
    const first = offsets.after(at(0, 1));
    await sleep(10);
    // Recorded while the first commit is in flight: it goes in the next one, an interval later.
    let secondDone = false;
    const second = offsets.after(at(0, 2)).then(() => (secondDone = true));
    await first;
    expect(commits).toHaveLength(1);
    expect(secondDone).toBe(false);
    await second;
    expect(commits.map((made) => made.offsets)).toEqual([['0@1'], ['0@2']]);
  });

  it('with interval 0, commits again as soon as the commit before is done', async () => {
    // Each commit is held until the test lets it finish, so "as soon as" is checked without a clock: once the
    // first is done, the second is made before any timer could fire (one turn of the event loop).
    const commits: string[][] = [];
    const finish: (() => void)[] = [];
    const offsets = new OffsetCommits((made) => {
      commits.push(made.map((offset) => `${offset.partition}@${offset.offset}`));
      return new Promise<void>((resolve) => finish.push(resolve));
    }, 0);
    const first = offsets.after(at(0, 1));
    await nextTurn();
    const second = offsets.after(at(0, 2));
    await nextTurn();
    expect(commits).toEqual([['0@1']]); // one commit in flight at a time
    finish[0]!();
    await first;
    await nextTurn();
    expect(commits).toEqual([['0@1'], ['0@2']]);
    finish[1]!();
    await second;
  });

  it('when closing, commits what is pending without waiting out the interval', async () => {
    const { commits, commit } = recordingCommit();
    const offsets = new OffsetCommits(commit, 60_000);
    await offsets.after(at(0, 1));
    const pending = offsets.after(at(0, 2));
    await sleep(20);
    expect(commits).toHaveLength(1);
    offsets.commitAtOnce();
    await pending;
    await offsets.after(at(0, 3));
    expect(commits.map((made) => made.offsets)).toEqual([['0@1'], ['0@2'], ['0@3']]);
  });

  it('keeps a partition at the highest offset recorded, when chunks delivered again record lower ones', async () => {
    const { commits, commit } = recordingCommit();
    const offsets = new OffsetCommits(commit, 100);
    await offsets.after(at(0, 1));
    const pending = [offsets.after(at(0, 50)), offsets.after(at(0, 20)), offsets.after(at(1, 7))];
    await Promise.all(pending);
    expect(commits.map((made) => made.offsets)).toEqual([['0@1'], ['0@50', '1@7']]);
  });

  it('drops what is not committed yet when the group is joined again, answering its callers, and commits later offsets as before', async () => {
    const { commits, commit } = recordingCommit();
    const offsets = new OffsetCommits(commit, 150);
    await offsets.after(at(0, 1));
    let dropped = false;
    const pending = offsets.after(at(0, 40)).then(() => (dropped = true));
    await sleep(20);
    offsets.discardPending();
    await pending;
    expect(dropped).toBe(true);
    await offsets.after(at(0, 45));
    expect(commits.map((made) => made.offsets)).toEqual([['0@1'], ['0@45']]);
  });

  it('a failed commit still answers its callers, and the next commit goes on', async () => {
    let calls = 0;
    const offsets = new OffsetCommits(async () => {
      calls += 1;
      if (calls === 1) throw new Error('rebalance in progress');
    }, 0);
    await offsets.after(at(0, 1));
    await offsets.after(at(0, 2));
    expect(calls).toBe(2);
  });
});
