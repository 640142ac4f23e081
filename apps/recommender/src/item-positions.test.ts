import { ItemPositions } from './item-positions';

describe('item positions', () => {
  it('finds the items placed in the current list, and no others', () => {
    const positions = new ItemPositions();
    positions.begin();
    positions.place('a', 0);
    positions.place('b', 1);
    expect(positions.positionOf('a')).toBe(0);
    expect(positions.positionOf('b')).toBe(1);
    expect(positions.positionOf('c')).toBe(-1);
  });

  it('when a new list begins, the previous list\'s items are absent until placed again', () => {
    const positions = new ItemPositions();
    positions.begin();
    positions.place('a', 0);
    positions.place('b', 1);
    positions.begin();
    expect(positions.positionOf('a')).toBe(-1);
    positions.place('b', 7);
    expect(positions.positionOf('b')).toBe(7);
    expect(positions.positionOf('a')).toBe(-1);
  });

  it('keeps every position when more items are placed than it first had room for', () => {
    const positions = new ItemPositions();
    positions.begin();
    for (let index = 0; index < 5_000; index++) positions.place(`item-${index}`, index);
    for (let index = 0; index < 5_000; index += 499) expect(positions.positionOf(`item-${index}`)).toBe(index);
  });

  it('when more distinct items than it numbers have been seen, it starts over at the next list and still answers right', () => {
    const positions = new ItemPositions(3);
    positions.begin();
    ['a', 'b', 'c', 'd'].forEach((itemId, index) => positions.place(itemId, index));
    expect(positions.positionOf('d')).toBe(3);
    positions.begin();
    expect(['a', 'b', 'c', 'd'].map((itemId) => positions.positionOf(itemId))).toEqual([-1, -1, -1, -1]);
    positions.place('d', 0);
    positions.place('e', 1);
    expect(positions.positionOf('d')).toBe(0);
    expect(positions.positionOf('e')).toBe(1);
    expect(positions.positionOf('a')).toBe(-1);
  });
});
