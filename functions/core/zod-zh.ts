// The messages zod writes itself — a field missing, a wrong type, a text too long — reach county officials through
// the API and the CLI, so they are Chinese: the common cases in plain words here, the rest from zod's zh-CN locale.
// Messages our schemas give themselves are already Chinese and are left as they are.
import { z } from 'zod';

const TYPE_ZH: Record<string, string> = {
  string: '文本',
  number: '数字',
  int: '整数',
  boolean: 'true 或 false',
  array: '列表',
  object: '对象',
  date: '日期',
};

type Issue = z.core.$ZodRawIssue;

function messageOf(issue: Issue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return '必填';
      return `应为${TYPE_ZH[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min <= 1 ? '不能为空' : `至少${min}个字符`;
      if (issue.origin === 'array' || issue.origin === 'set') return `至少${min}项`;
      return `不能小于${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `不能超过${max}个字符`;
      if (issue.origin === 'array' || issue.origin === 'set') return `最多${max}项`;
      return `不能大于${max}`;
    }
    case 'invalid_value':
      return `应为以下之一：${issue.values.map(String).join('、')}`;
    case 'invalid_format':
      if (issue.format === 'email') return '不是有效的邮箱地址';
      if (issue.format === 'url') return '不是有效的网址';
      if (issue.format === 'datetime') return '不是有效的时间（如 2023-02-06T09:00:00+08:00）';
      if (issue.format === 'date') return '不是有效的日期（YYYY-MM-DD）';
      return '格式不正确';
    case 'unrecognized_keys':
      return `不认识的字段：${issue.keys.join('、')}`;
    default:
      return undefined;
  }
}

let installed = false;

/** Installs the Chinese messages for this process (idempotent). */
export function useChineseValidationMessages(): void {
  if (installed) return;
  installed = true;
  z.config(z.locales.zhCN());
  z.config({ customError: (issue) => messageOf(issue) });
}
