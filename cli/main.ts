import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CalendarError } from '../workflows/calendar.ts';
import { CatalogError, UnknownDutyError } from '../workflows/catalog/index.ts';
import { CaseTypeError } from '../workflows/cases/index.ts';
import { catalogCommand, planCommand, calendarCommand } from './commands/foundation.ts';
import { EXIT, UsageError, stdio, type Io } from './output.ts';
import { useChineseValidationMessages } from '../functions/core/zod-zh.ts';

// Roster files are checked here before they are sent: their problems read like the API's, in Chinese.
useChineseValidationMessages();

const HELP = `safeduty —— 安全生产职责提醒与督办

用法：
  safeduty start [--port 8080] [--ses-port 8005] [--data .safeduty] [--clock <ISO时间>] [--speed N] [--faults <故障.json>] [--verbose]
  safeduty simulate --from 2023-01-01 --to 2023-12-31 [--county small|county|city|<名册文件>] [--seed N] [--json]
  safeduty catalog [--json] [--catalog <文件>]
  safeduty plan <职责ID> <周期编号> [--json] [--catalog <文件>]
  safeduty calendar is-workday <日期> [--json]
  safeduty calendar add-workdays <日期> <天数> [--json]
  safeduty calendar status | show <年份> | load <安排.json> [--dry-run] [--api 地址]
                                               部署中的节假日安排：缺少的年份、载入国务院办公厅公布的安排

管理员命令（通过 HTTP 接口；默认本地 http://127.0.0.1:8080，--api <地址> 指定部署环境）：
  safeduty units import <名册文件.csv|.xlsx|.json> [--dry-run] [--yes] [--encoding gbk]
                                               导入名册（一次列出全部问题，有误不写入；替换已有联系人前先预览，加 --yes 确认）
  safeduty units list [--kind 类型] [--all] [--undeliverable]
                                               列出单位（--all 含已停用；--undeliverable 只列邮箱无法送达的）
  safeduty units show <单位编号>                 查看一个单位
  safeduty units add <单位编号> --name 名称 --kind 企业 --contact-name … --contact-email … --principal-name … --principal-email …
  safeduty units edit <单位编号> [--contact-email 新邮箱] [--principal-name …] [--activate] …   只修改给出的项
  safeduty units deactivate <单位编号>           停用单位（历史记录保留）
  safeduty units export [--xlsx --out 名册.xlsx] [--all]   导出名册（CSV 或 Excel，可修改后再导入）
  safeduty leaders list | show <领导编号>        县领导
  safeduty leaders edit <领导编号> [--title 职务] [--name 姓名] [--email 邮箱] [--phone 电话]   只修改给出的项
  safeduty submit <职责ID> <周期编号> <单位ID> [--note 说明]   代单位记录完成情况
  safeduty overdue [--town 乡镇] [--department 部门] [--duty 职责ID] [--period 周期] [--level 级别]
                                                 逾期清单，可按乡镇、主管部门、职责、周期、督办级别筛选
  safeduty overdue --csv [--out 文件] | --xlsx --out 逾期清单.xlsx   导出（含乡镇、主管部门列，中文日期）
  safeduty deliveries [--from 日期] [--to 日期] [--recipient 邮箱] [--status sent|failed|suppressed] [--all]
                                                 邮件发送记录：谁在何时收到哪些提醒，哪些地址无法送达及原因
  safeduty duties create --title 标题 --instruction 要求 --kinds 乡镇 --deadline "2023-09-27 18:00" [--towns …] [--document 文号]
                                                 发起专项工作（临时任务），按期提醒、逾期督办；或 --workdays N；--file 完整设置
  safeduty duties create --template 国庆节前检查 | --every 周五 --from 日期 --until 日期   按模板发起；重复进行
  safeduty duties templates | list               模板及其日期；已发起的专项工作
  safeduty duties extend|cancel|units <编号> …   延期、取消、添加或移出责任单位（均告知相关单位一次）
  safeduty assessment --year 2023 [--unit 单位ID] [--xlsx 文件.xlsx] [--html 文件.html]
                                                 年度考核：各单位各项职责按时率、逾期与未报期次、案件期限、无法送达的联系人
  safeduty warnings issue --level red --title 标题 --text 预警内容 --units 单位1,单位2 --valid-until "2023-07-06 08:00"
                                               发布预警（预警叫应）：短信和邮件即时送达，须在时限内一键叫应，未叫应的逐级报告
  safeduty warnings list | show <预警编号> | lift <预警编号>   已发布的预警；各单位叫应情况；解除预警
  safeduty cases open <案件类型> --file <案件.json>  立案并启动案件工作流（重大事故隐患挂牌督办、经营性自建房整治）
      案件文件（JSON）：{"title": "液氨储罐区安全阀失效", "responsibleUnitId": "ent-0001",
        "supervisingUnitId": "dept-emergency", "term": {"until": "2023-06-30"},
        "fields": {"hazard": "2号储罐安全阀校验过期", "grade": "重大事故隐患", "location": "液氨储罐区"}}
      term 也可写 {"days": 90}；fields 的各项见 safeduty cases types。
  safeduty cases list [--type 类型] [--status open|closed] [--town 镇] [--overdue]   列出案件
  safeduty cases show <案件编号>                  查看案件：阶段、期限、办理经过
  safeduty cases event <案件编号> <事件> [--file 事件.json]   以县安委办身份办理事件
      事件文件（JSON，各项均可省略，按事件要求填写）：
        {"fields": {…}, "note": "说明", "person": {"name": "经办人"}, "newDeadline": "2023-07-31"}
      例：safeduty cases event mh-20230306-k3f9a1 plan-submitted --file 方案.json，方案.json 为
        {"fields": {"responsibility": "总经理负责", "measures": "更换安全阀", "funding": "专项资金12万元",
                    "timeline": "6月20日前完成", "contingency": "修订液氨泄漏应急预案"}}
      各事件需要的字段、经办人和新期限见 safeduty cases types。
  safeduty cases types                           案件类型：阶段、事件及各自要填写的字段
  令牌取自环境变量 SAFEDUTY_ADMIN_TOKEN，或本地数据目录（--data，默认 .safeduty）中的 admin-token 文件。

周期编号示例：2023-02-06（日）、2023-W06（ISO 周）、2023-02（月）、2023-Q1（季度）、2023（年）。
加 --json 输出稳定的机器可读格式。`;

export type Command = (args: string[], io: Io) => Promise<number>;

/** Parses options strictly; unknown options are a usage error in Chinese. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const m = /'([^']+)'/.exec((err as Error).message);
    throw new UsageError(`参数有误：${m ? m[1] : (err as Error).message}。运行 safeduty --help 查看用法。`);
  }
}

async function lazy(path: string, name: string): Promise<Command> {
  const mod = (await import(path)) as Record<string, Command>;
  const cmd = mod[name];
  if (!cmd) throw new Error(`command ${name} missing in ${path}`);
  return cmd;
}

/**
 * `safeduty <command> [<sub>] --help`: the usage lines of that command (and subcommand), with their explanations;
 * all of them when none matches.
 */
function helpFor(command: string, sub: string | undefined): string {
  const lines = HELP.split('\n');
  const pick = (prefix: string) => {
    const out: string[] = [];
    let taking = false;
    for (const l of lines) {
      if (l.startsWith('  safeduty ')) taking = l.startsWith(prefix);
      else if (!l.startsWith('    ')) taking = false;
      if (taking) out.push(l);
    }
    return out;
  };
  const own = sub && !sub.startsWith('-') ? pick(`  safeduty ${command} ${sub}`) : [];
  const found = own.length > 0 ? own : pick(`  safeduty ${command}`);
  return found.length > 0 ? ['用法：', ...found].join('\n') : HELP;
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  if (
    command !== undefined &&
    !['-h', '--help', 'help'].includes(command) &&
    (rest.includes('--help') || rest.includes('-h'))
  ) {
    io.out(helpFor(command, rest[0]));
    return EXIT.ok;
  }
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(HELP);
        return EXIT.ok;
      case 'catalog':
        return await catalogCommand(rest, io);
      case 'plan':
        return await planCommand(rest, io);
      case 'calendar':
        return await calendarCommand(rest, io);
      case 'start':
        return await (
          await lazy('./commands/start.ts', 'startCommand')
        )(rest, io);
      case 'units':
        return await (
          await lazy('./commands/admin.ts', 'unitsCommand')
        )(rest, io);
      case 'leaders':
        return await (
          await lazy('./commands/roster.ts', 'leadersCommand')
        )(rest, io);
      case 'submit':
        return await (
          await lazy('./commands/admin.ts', 'submitCommand')
        )(rest, io);
      case 'overdue':
        return await (
          await lazy('./commands/admin.ts', 'overdueCommand')
        )(rest, io);
      case 'deliveries':
        return await (
          await lazy('./commands/deliveries.ts', 'deliveriesCommand')
        )(rest, io);
      case 'duties':
        return await (
          await lazy('./commands/duties.ts', 'dutiesCommand')
        )(rest, io);
      case 'assessment':
        return await (
          await lazy('./commands/assessment.ts', 'assessmentCommand')
        )(rest, io);
      case 'cases':
        return await (
          await lazy('./commands/cases.ts', 'casesCommand')
        )(rest, io);
      case 'warnings':
        return await (
          await lazy('./commands/warnings.ts', 'warningsCommand')
        )(rest, io);
      case 'simulate':
        return await (
          await lazy('./commands/simulate.ts', 'simulateCommand')
        )(rest, io);
      default:
        throw new UsageError(`未知的命令：${command}。运行 safeduty --help 查看用法。`);
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof CalendarError ||
      err instanceof UnknownDutyError ||
      err instanceof CatalogError ||
      err instanceof CaseTypeError
    ) {
      io.err(err.messageZh);
      return EXIT.badInput;
    }
    io.err(`运行出错：${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failure;
  }
}
