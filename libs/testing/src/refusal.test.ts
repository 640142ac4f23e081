import { invalidArgument, status } from '@orrery/grpc';
import { refusal } from './index';

describe('refusal', () => {
  it('when the call throws a ServiceError, it is returned with its code and message', () => {
    expect(
      refusal(() => {
        throw invalidArgument('user_id', 'must not be empty');
      }),
    ).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'user_id: must not be empty' });
  });

  it('when the call returns, the test fails', () => {
    expect(() => refusal(() => 'accepted')).toThrow('expected the request to be refused');
  });

  it('when the call throws something other than a ServiceError, that error fails the test', () => {
    expect(() =>
      refusal(() => {
        throw new TypeError('a bug, not a refusal');
      }),
    ).toThrow(TypeError);
  });
});
