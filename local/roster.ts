import type { Leader, Unit } from '../functions/core/model.ts';
import type { UnitKind } from '../workflows/catalog/schema.ts';

/** A small seeded PRNG (mulberry32): the same seed always gives the same county. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Roster {
  units: Unit[];
  leaders: Leader[];
}

export interface RosterSize {
  towns: number;
  departments: number;
  enterprises: number;
  sites: number;
}

export const ROSTER_SIZES: Record<'small' | 'county' | 'city', RosterSize> = {
  small: { towns: 3, departments: 4, enterprises: 6, sites: 4 },
  county: { towns: 13, departments: 60, enterprises: 1200, sites: 300 },
  city: { towns: 130, departments: 600, enterprises: 12000, sites: 3000 },
};

const TOWN_NAMES = [
  '青山镇',
  '河东镇',
  '石桥镇',
  '柳林镇',
  '南岭镇',
  '北关镇',
  '东坪镇',
  '西岭镇',
  '龙泉镇',
  '白水镇',
  '桃园镇',
  '云峰镇',
  '经开区',
];
/** Sector departments that supervise enterprises, each with the county leader in charge of the sector. */
const SECTORS: { id: string; name: string; leader: string }[] = [
  { id: 'dept-emergency', name: '县应急管理局', leader: 'leader-executive' },
  { id: 'dept-housing', name: '县住房和城乡建设局', leader: 'leader-urban' },
  { id: 'dept-transport', name: '县交通运输局', leader: 'leader-urban' },
  { id: 'dept-market', name: '县市场监督管理局', leader: 'leader-industry' },
  { id: 'dept-industry', name: '县工业和信息化局', leader: 'leader-industry' },
  { id: 'dept-energy', name: '县能源局', leader: 'leader-industry' },
  { id: 'dept-agriculture', name: '县农业农村局', leader: 'leader-agriculture' },
  { id: 'dept-water', name: '县水利局', leader: 'leader-agriculture' },
  { id: 'dept-resources', name: '县自然资源局', leader: 'leader-agriculture' },
  { id: 'dept-culture', name: '县文化和旅游局', leader: 'leader-culture' },
  { id: 'dept-education', name: '县教育科技局', leader: 'leader-culture' },
  { id: 'dept-fire', name: '县消防救援大队', leader: 'leader-executive' },
];
const OTHER_DEPARTMENTS = [
  '县发展和改革局',
  '县公安局',
  '县财政局',
  '县人力资源和社会保障局',
  '县生态环境分局',
  '县商务局',
  '县卫生健康局',
  '县气象局',
  '县林业局',
  '县退役军人事务局',
  '县民政局',
  '县审计局',
  '县统计局',
  '县医疗保障局',
  '县行政审批服务管理局',
  '县融媒体中心',
  '县供销社',
  '县城市管理局',
  '县粮食和物资储备中心',
  '县地震监测中心',
];
const LEADERS: { id: string; titleZh: string; name: string }[] = [
  { id: 'leader-executive', titleZh: '常务副县长（分管应急管理）', name: '王建国' },
  { id: 'leader-industry', titleZh: '副县长（分管工业、能源）', name: '李卫东' },
  { id: 'leader-urban', titleZh: '副县长（分管住建、交通）', name: '张海涛' },
  { id: 'leader-agriculture', titleZh: '副县长（分管农业、水利、自然资源）', name: '赵红梅' },
  { id: 'leader-culture', titleZh: '副县长（分管文旅、教育）', name: '刘晓燕' },
];
/**
 * The county's principal leader: no sector of its own (so not among LEADERS, which departments are dealt out from),
 * the top of the county leaders' own ladder.
 */
const COUNTY_HEAD = { id: 'leader-magistrate', titleZh: '县长', name: '陈志强' };
/** The roster attribute of section 八's targeted inspections. */
export const ACCIDENT_ATTRIBUTE = '近三年发生较大及以上事故';
const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕'.split('');
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅海波志宏'.split('');
const ENTERPRISE_WORDS = [
  '煤业',
  '化工',
  '建材',
  '运输',
  '建筑',
  '燃气',
  '机械',
  '食品',
  '商贸',
  '物流',
  '冶金',
  '电力',
];
const SITE_WORDS = [
  '采煤一队',
  '综采班组',
  '装卸作业点',
  '加气站',
  '配电班组',
  '仓储作业点',
  '施工作业面',
  '危化品库区',
];

const domain = 'example.gov.cn';

/** A fictional mobile number, fixed by the id and role (so it does not shift the generator's names). */
function phoneOf(id: string, role: string): string {
  let h = 0x811c9dc5;
  for (const c of `${id}/${role}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return `13${String((h >>> 0) % 1_000_000_000).padStart(9, '0')}`;
}

function idHash(text: string): number {
  let h = 0x811c9dc5;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

function countySupervised(id: string): boolean {
  return idHash(id) % 4 === 0;
}

/**
 * About one town in five and one enterprise in fifteen had a major or large accident in the last three years (fixed by
 * the id like 县属监管企业, so the generator's names and numbers do not shift): in the small demo county 河东镇 and one
 * enterprise supervised by the market bureau, so the targeted inspection reaches two departments of the four.
 */
function hadAccident(id: string): boolean {
  return idHash(`accident/${id}`) % (id.startsWith('town-') ? 5 : 15) === 0;
}

/** The unit a county leader is on the roster as, so the field-visit duty can name the leader who did not go. */
export function countyLeaderUnitId(leaderId: string): string {
  return `county-${leaderId}`;
}

export function generateRoster(size: RosterSize, seed = 1): Roster {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const person = (id: string, role: string) => ({
    name: `${pick(SURNAMES)}${pick(GIVEN)}${random() < 0.5 ? pick(GIVEN) : ''}`,
    email: `${id}.${role}@${domain}`,
    phone: phoneOf(id, role),
  });
  const unit = (id: string, name: string, kind: UnitKind, extra: Partial<Unit> = {}): Unit => ({
    id,
    name,
    kind,
    contact: person(id, 'contact'),
    principal: person(id, 'principal'),
    active: true,
    ...extra,
  });

  const leaders: Leader[] = [...LEADERS, COUNTY_HEAD].map((l) => ({
    id: l.id,
    titleZh: l.titleZh,
    holder: { name: l.name, email: `${l.id}@${domain}` },
  }));
  const units: Unit[] = [
    unit('county-safety-office', '县安全生产委员会办公室（县安委办）', 'county-body', {
      leaderInChargeId: 'leader-executive',
    }),
    unit('county-safety-committee', '县安全生产委员会', 'county-body', {
      leaderInChargeId: 'leader-executive',
      supervisingDepartmentId: 'dept-emergency',
    }),
  ];

  const towns: Unit[] = [];
  for (let i = 0; i < size.towns; i++) {
    const base = TOWN_NAMES[i % TOWN_NAMES.length] as string;
    const round = Math.floor(i / TOWN_NAMES.length);
    towns.push(
      unit(`town-${String(i + 1).padStart(3, '0')}`, round ? `${base}（${round + 1}区）` : base, 'town', {
        supervisingDepartmentId: 'dept-emergency',
        leaderInChargeId: 'leader-executive',
        ...(hadAccident(`town-${String(i + 1).padStart(3, '0')}`)
          ? { attributes: [ACCIDENT_ATTRIBUTE] }
          : {}),
      }),
    );
  }
  units.push(...towns);

  const sectorCount = Math.min(size.departments, SECTORS.length);
  const sectors = SECTORS.slice(0, Math.max(1, sectorCount));
  for (let i = 0; i < size.departments; i++) {
    const sector = SECTORS[i];
    if (sector) {
      units.push(
        unit(sector.id, sector.name, 'county-department', {
          leaderInChargeId: sector.leader,
          supervisingDepartmentId: 'county-safety-office',
        }),
      );
    } else {
      const j = i - SECTORS.length;
      const base = OTHER_DEPARTMENTS[j % OTHER_DEPARTMENTS.length] as string;
      const round = Math.floor(j / OTHER_DEPARTMENTS.length);
      units.push(
        unit(
          `dept-${String(i + 1).padStart(4, '0')}`,
          round ? `${base}（第${round + 1}分支）` : base,
          'county-department',
          { leaderInChargeId: pick(LEADERS).id, supervisingDepartmentId: 'county-safety-office' },
        ),
      );
    }
  }

  const enterprises: Unit[] = [];
  for (let i = 0; i < size.enterprises; i++) {
    const town = pick(towns);
    const sector = pick(sectors);
    const id = `ent-${String(i + 1).padStart(5, '0')}`;
    enterprises.push(
      unit(
        id,
        `${town.name.replace(/镇|区|（.*）/g, '')}${pick(ENTERPRISE_WORDS)}有限公司（${String(i + 1).padStart(4, '0')}）`,
        'enterprise',
        {
          parentId: town.id,
          supervisingDepartmentId: sector.id,
          leaderInChargeId: sector.leader,
          staffRepresentative: person(id, 'staff'),
          // About one in four is county-supervised (县属监管企业, who report at year end): fixed by the id, so the
          // generator's names and numbers do not shift.
          ...attributesOf([
            ...(countySupervised(id) ? ['县属监管企业'] : []),
            ...(hadAccident(id) ? [ACCIDENT_ATTRIBUTE] : []),
          ]),
        },
      ),
    );
  }
  units.push(...enterprises);

  for (let i = 0; i < size.sites; i++) {
    const ent = enterprises.length > 0 ? pick(enterprises) : undefined;
    units.push(
      unit(
        `site-${String(i + 1).padStart(5, '0')}`,
        `${ent ? ent.name.replace(/（.*）/, '') : '县属'}${pick(SITE_WORDS)}（${String(i + 1).padStart(4, '0')}）`,
        'site',
        {
          ...(ent
            ? {
                parentId: ent.id,
                supervisingDepartmentId: ent.supervisingDepartmentId,
                leaderInChargeId: ent.leaderInChargeId,
              }
            : {}),
        },
      ),
    );
  }
  // Each county leader in person (县领导): the leader is contact and principal, so reminders reach the leader, and the
  // county head is the one above (the head's own entry names the head too; an escalation never goes to the person
  // who is late, so the head hears of it as the unit itself). After the sites: the generator's draws stay as they were.
  for (const l of [COUNTY_HEAD, ...LEADERS]) {
    const self = { name: l.name, email: `${l.id}@${domain}`, phone: phoneOf(l.id, 'holder') };
    units.push({
      id: countyLeaderUnitId(l.id),
      name: `${l.titleZh.replace(/（.*）/, '')}${l.name}`,
      kind: 'county-leader',
      contact: self,
      principal: self,
      leaderInChargeId: COUNTY_HEAD.id,
      active: true,
    });
  }
  return { units, leaders };
}

function attributesOf(list: string[]): Pick<Unit, 'attributes'> {
  return list.length > 0 ? { attributes: list } : {};
}
