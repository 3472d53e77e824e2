import { describe, expect, it } from 'vitest';
import { momentOfDeliveryExecution } from '../../functions/core/reconcile.ts';

describe('the reconciler reads a delivery execution’s moment from its name', () => {
  it('on the minute, to the second, with a late-run or continuation suffix', () => {
    expect(momentOfDeliveryExecution('delivery-20230206T0900')).toBe(Date.parse('2023-02-06T09:00:00+08:00'));
    expect(momentOfDeliveryExecution('delivery-20230206T091307-r091307')).toBe(
      Date.parse('2023-02-06T09:13:07+08:00'),
    );
    expect(momentOfDeliveryExecution('delivery-20230206T1430-g2')).toBe(
      Date.parse('2023-02-06T14:30:00+08:00'),
    );
    expect(momentOfDeliveryExecution('risk-prejudgment-weekly_2023-W06')).toBeUndefined();
  });
});
