import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { allEvents, checkIngestibleTimes, datasetFromRatings, readRatingFile } from './dataset';
import { DatasetParseError, movieLensFormatOf, parseRatings } from './movielens';

describe('MovieLens rating files', () => {
  const directory = mkdtempSync(join(tmpdir(), 'orrery-movielens-'));
  const write = (name: string, text: string): string => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };

  it('when reading u.data, each tab-separated line becomes a RATING event with its value and time in ms', async () => {
    const path = write('u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n');
    const events = allEvents(datasetFromRatings(await readRatingFile(path, { progress: false })));
    expect(events).toHaveLength(3);
    expect(events[1]).toEqual({ eventId: 'movielens:196:242:881250949', userId: '196', itemId: '242', type: 'RATING', value: 3, occurredAt: 881_250_949_000 });
  });

  it('when reading ratings.dat, fields are separated by "::"', async () => {
    const events = allEvents(datasetFromRatings(await readRatingFile(write('ratings.dat', '1::1193::5::978300760\r\n1::661::3::978302109\r\n'), { progress: false })));
    expect(events.map((event) => [event.userId, event.itemId, event.value])).toEqual([['1', '1193', 5], ['1', '661', 3]]);
  });

  it('when reading ratings.csv, the header is skipped and half-star ratings are kept', async () => {
    const events = allEvents(datasetFromRatings(await readRatingFile(write('ratings.csv', 'userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n'), { progress: false })));
    expect(events.map((event) => event.value)).toEqual([2.5, 3]);
    expect(events[1]?.occurredAt).toBe(1_260_759_179_000);
  });

  it('when a line is malformed, the error names the file and the line number', async () => {
    const path = write('bad.data', '196\t242\t3\t881250949\n186\t302\t3\n');
    await expect(readRatingFile(path, { progress: false })).rejects.toThrow(`${path}:2: expected 4 tab-separated fields`);
    expect(() => parseRatings('userId,movieId,rating,timestamp\n1,31,abc,1260759144\n', 'ratings.csv', 'r.csv')).toThrow('r.csv:2: rating must be a number');
    expect(() => parseRatings('1::2::4::12.5\n', 'ratings.dat', 'r.dat')).toThrow('r.dat:1: timestamp must be whole Unix seconds');
    expect(() => parseRatings('movie,user\n', 'ratings.csv', 'r.csv')).toThrow(DatasetParseError);
  });

  it('when a file has no ratings or an unknown name, it is refused', async () => {
    await expect(readRatingFile(write('empty.csv', 'userId,movieId,rating,timestamp\n'), { progress: false })).rejects.toThrow('no ratings found');
    expect(() => movieLensFormatOf('ratings.json')).toThrow('unknown rating file format');
  });

  it('when timestamps are shifted, the newest lands on the given time, gaps are kept and event ids keep the file\'s time', async () => {
    const ratings = await readRatingFile(write('shifted.data', '1\t10\t4\t1\n1\t11\t5\t5\n'), { progress: false });
    const dataset = datasetFromRatings(ratings, { newestAt: 100_000 });
    expect(allEvents(dataset).map((event) => [event.eventId, event.occurredAt])).toEqual([['movielens:1:10:1', 96_000], ['movielens:1:11:5', 100_000]]);
    expect(dataset.items.map((item) => item.publishedAt)).toEqual([96_000, 100_000]);
  });

  it('when building a data set from ratings, every rated item and user exists once and events are in time order', async () => {
    const dataset = datasetFromRatings(await readRatingFile(write('order.data', '2\t10\t4\t200\n1\t10\t5\t100\n1\t11\t3\t300\n'), { progress: false }));
    expect(dataset.items.map((item) => [item.itemId, item.publishedAt])).toEqual([['10', 100_000], ['11', 300_000]]);
    expect(dataset.users.map((user) => user.userId)).toEqual(['1', '2']);
    expect(allEvents(dataset).map((event) => event.occurredAt)).toEqual([100_000, 200_000, 300_000]);
    expect(dataset.events.slice(1, 3).map((event) => event.userId)).toEqual(['2', '1']);
  });

  it('when a file spans more years than have passed since 2000 (ml-32m: 1995–2023), it is refused before anything is sent, saying why', async () => {
    const ratings = await readRatingFile(write('ratings-32m.csv', 'userId,movieId,rating,timestamp\n1,17,4.0,789652009\n2,17,3.5,1697164000\n'), { progress: false });
    const newestAt = Date.UTC(2026, 10, 29);
    expect(() => checkIngestibleTimes(datasetFromRatings(ratings, { newestAt }), 'ratings-32m.csv', true)).toThrow(
      /^ratings-32m\.csv: its ratings span 28\.8 years, so shifted to end now they would start on 1998-02-25, and ingestion refuses events before 2000-01-01 \(at most 26\.9 years fit\); nothing was sent$/,
    );
    const ml100k = await readRatingFile(write('u-span.data', '1\t1\t5\t874724710\n2\t1\t4\t893286638\n'), { progress: false });
    expect(() => checkIngestibleTimes(datasetFromRatings(ml100k, { newestAt }), 'u.data', true)).not.toThrow();
    expect(() => checkIngestibleTimes(datasetFromRatings(ml100k), 'u.data', false)).toThrow('u.data: its oldest rating is on 1997-09-20, and ingestion refuses events before 2000-01-01 (without --keep-timestamps');
  });

  it('when a large file is imported, each rating holds well under 100 bytes of memory, so 25M ratings fit in the default heap', async () => {
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    const count = 300_000;
    const lines = ['userId,movieId,rating,timestamp'];
    for (let i = 0; i < count; i++) lines.push(`${(i * 7_919) % 20_000},${(i * 104_729) % 9_000},${(i % 10) / 2 + 0.5},${1_100_000_000 + ((i * 7_919) % 900_000)}`);
    const path = write('large.csv', `${lines.join('\n')}\n`);
    lines.length = 0;
    const held = (): number => {
      // Twice: the first collection frees the buffers the second one counts.
      collectGarbage();
      collectGarbage();
      const memory = process.memoryUsage();
      return memory.heapUsed + memory.arrayBuffers;
    };
    const before = held();
    const dataset = datasetFromRatings(await readRatingFile(path, { progress: false }), { newestAt: Date.UTC(2026, 0, 1) });
    const perRating = (held() - before) / count;
    expect(dataset.events.length).toBe(count);
    // As event objects they took ~350 bytes each (ml-25m: ~9 GB against a ~4 GB heap limit).
    expect(perRating).toBeLessThan(100);
  });
});

