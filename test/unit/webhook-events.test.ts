import { describe, expect, it } from 'vitest';
import {
  delegationWebhookEvent,
  endedBy,
  subscribableEventTypes,
  WEBHOOK_MAX_ATTEMPTS,
  webhookEventTypes,
  webhookRetryDelay,
  webhookRetryDelaysMs,
} from '../../core/webhook-events.ts';

describe('the retry schedule', () => {
  it('is 12 tries over about three days', () => {
    expect(WEBHOOK_MAX_ATTEMPTS).toBe(12);
    const total = webhookRetryDelaysMs.reduce((a, b) => a + b, 0);
    const days = total / 86_400_000;
    expect(days).toBeGreaterThan(2.9);
    expect(days).toBeLessThan(3.2);
    // Each wait at least as long as the one before.
    for (let i = 1; i < webhookRetryDelaysMs.length; i++) {
      expect(webhookRetryDelaysMs[i]).toBeGreaterThanOrEqual(webhookRetryDelaysMs[i - 1] as number);
    }
  });

  it('gives the wait after each failed try, and none after the last', () => {
    expect(webhookRetryDelay(1, 1)).toBe(5_000);
    expect(webhookRetryDelay(2, 1)).toBe(300_000);
    expect(webhookRetryDelay(WEBHOOK_MAX_ATTEMPTS - 1, 1)).toBe(12 * 3_600_000);
    expect(webhookRetryDelay(WEBHOOK_MAX_ATTEMPTS, 1)).toBeNull();
    expect(webhookRetryDelay(WEBHOOK_MAX_ATTEMPTS + 5, 1)).toBeNull();
  });

  it('scales by WEBHOOK_RETRY_SCALE, never below 1 ms', () => {
    expect(webhookRetryDelay(1, 0.001)).toBe(5);
    expect(webhookRetryDelay(2, 0.5)).toBe(150_000);
    expect(webhookRetryDelay(1, 0)).toBe(1);
    expect(webhookRetryDelay(1, 1e-9)).toBe(1);
  });
});

describe('delegation events', () => {
  it('maps transitions to webhook events; sending an offer is not one', () => {
    expect(delegationWebhookEvent.accept).toBe('delegation.accepted');
    expect(delegationWebhookEvent.decline).toBe('delegation.declined');
    expect(delegationWebhookEvent.terminate).toBe('delegation.terminated');
    expect(delegationWebhookEvent.end_reached).toBe('delegation.expired');
    expect(delegationWebhookEvent.answer_timeout).toBe('delegation.expired');
    expect(delegationWebhookEvent.auto_extend).toBe('delegation.extended');
    expect(delegationWebhookEvent.bounced).toBe('campaign.recipient_failed');
    expect(Object.keys(delegationWebhookEvent)).not.toContain('send_succeeded');
    for (const type of Object.values(delegationWebhookEvent)) expect(webhookEventTypes).toContain(type);
  });

  it('says the client ended it only when a client user did', () => {
    expect(endedBy({ type: 'client_user', id: 'usr_1' })).toBe('client');
    expect(endedBy({ type: 'partner_user', id: 'usr_1' })).toBe('partner');
    expect(endedBy({ type: 'system', id: null })).toBe('partner');
  });

  it('does not let an endpoint subscribe to the test event', () => {
    expect(subscribableEventTypes).not.toContain('webhook.test');
    expect(subscribableEventTypes.length).toBe(webhookEventTypes.length - 1);
  });
});
