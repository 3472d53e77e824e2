// The SMS adapter: one SendTextMessage per text, with the deployment's origination identity and configuration set,
// and the delivery record in its Context; errors reach the caller as the service raised them.
import {
  ConflictException,
  PinpointSMSVoiceV2Client,
  SendTextMessageCommand,
  ThrottlingException,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetClients, smsClient } from '../../functions/adapters/clients.ts';
import { sendSms, smsEnabled } from '../../functions/adapters/sms.ts';

const sms = mockClient(PinpointSMSVoiceV2Client);

beforeEach(() => {
  sms.reset();
  resetClients();
  vi.stubEnv('AWS_REGION', 'ap-southeast-1');
});
afterEach(() => vi.unstubAllEnvs());
afterAll(() => sms.restore());

describe('sendSms', () => {
  it('sends one transactional text from the configured identity, through the configuration set, with its record', async () => {
    vi.stubEnv('SMS_ORIGINATION_IDENTITY', 'pool-0123456789abcdef0123456789abcdef');
    vi.stubEnv('SMS_CONFIGURATION_SET', 'safeduty-sms');
    sms.on(SendTextMessageCommand).resolves({ MessageId: 'm-1' });
    const id = await sendSms({
      to: '+8613800000001',
      text: '【襄垣县应急管理局】测试短信 https://safeduty.example.gov.cn/r/abc',
      ref: 'MAIL#sms:+8613800000001|2023-02-06T09:00',
    });
    expect(id).toBe('m-1');
    const calls = sms.commandCalls(SendTextMessageCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      DestinationPhoneNumber: '+8613800000001',
      MessageBody: '【襄垣县应急管理局】测试短信 https://safeduty.example.gov.cn/r/abc',
      MessageType: 'TRANSACTIONAL',
      OriginationIdentity: 'pool-0123456789abcdef0123456789abcdef',
      ConfigurationSetName: 'safeduty-sms',
      Context: { record: 'MAIL#sms:+8613800000001|2023-02-06T09:00' },
    });
  });

  it('leaves out what is not configured: AWS then picks the identity', async () => {
    sms.on(SendTextMessageCommand).resolves({});
    expect(await sendSms({ to: '+8613800000002', text: '测试' })).toBe('unknown');
    expect(sms.commandCalls(SendTextMessageCommand)[0]!.args[0].input).toEqual({
      DestinationPhoneNumber: '+8613800000002',
      MessageBody: '测试',
      MessageType: 'TRANSACTIONAL',
    });
  });

  it("passes the service's errors on unchanged, for delivery to classify", async () => {
    const optedOut = new ConflictException({
      message: 'opted out',
      Message: 'opted out',
      Reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT',
      $metadata: { httpStatusCode: 400 },
    });
    sms
      .on(SendTextMessageCommand)
      .rejectsOnce(optedOut)
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
    await expect(sendSms({ to: '+8613800000003', text: '测试' })).rejects.toBe(optedOut);
    await expect(sendSms({ to: '+8613800000003', text: '测试' })).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(sms.commandCalls(SendTextMessageCommand)).toHaveLength(2);
  });

  it('makes one attempt per call: the client retries nothing itself', async () => {
    expect(await smsClient().config.maxAttempts()).toBe(1);
  });
});

describe('smsEnabled', () => {
  it('is on where an origination identity is configured', () => {
    expect(smsEnabled({})).toBe(false);
    expect(smsEnabled({ SMS_ORIGINATION_IDENTITY: ' ' })).toBe(false);
    expect(smsEnabled({ SMS_ORIGINATION_IDENTITY: 'pool-abc' })).toBe(true);
  });
});
