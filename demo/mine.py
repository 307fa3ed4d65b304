"""
The demo mine (示范煤矿): a realistic, deterministic mine to try Kuangjiang on.

`demo_load` builds it and can run any number of times: every row is matched on a
natural key that never depends on the date, created when missing and updated when
it differs, so a second run on the same day changes nothing. Dates are computed
back from `today`, so the demo always shows "the last three years".
"""

from __future__ import annotations

import datetime as dt
import random
from contextlib import nullcontext
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from certifications import models as cert
from core.dates import add_years, last_day_after
from core.text import pinyin_initials, pinyin_key
from core.versions import bump
from core.writes import door_of
from training import models as tr
from training import roles

DEMO_PASSWORD = "kuangjiang"
SYSTEM_START = dt.date(2020, 1, 1)  # ranks awarded before it are imported from the old ledger
DEFAULT_SEED = 2026

MINE = ("SFMK", "示范煤矿")

# code, name, common name
SPECIAL_OPERATIONS = [
    ("MK-DQ", "煤矿井下电气作业", "井下电钳工"),
    ("MK-BP", "煤矿井下爆破作业", "爆破工"),
    ("MK-JK", "煤矿安全监测监控作业", "监测工"),
    ("MK-WJ", "煤矿瓦斯检查作业", "瓦斯检查工"),
    ("MK-AJ", "煤矿安全检查作业", "安全检查工"),
    ("MK-TS", "煤矿提升机操作作业", "主提升机司机"),
    ("MK-CM", "煤矿采煤机(掘进机)操作作业", "采煤机/掘进机司机"),
    ("MK-CC", "煤矿瓦斯抽采作业", "瓦斯抽采工"),
    ("MK-FT", "煤矿防突作业", "防突工"),
    ("MK-TF", "煤矿探放水作业", "探放水工"),
]

E, P, S = tr.Trade.Discipline.ELECTROMECHANICAL, tr.Trade.Discipline.PRODUCTION, tr.Trade.Discipline.SAFETY
# code, name, aliases, discipline, underground, special operation, the courses of its packages (basic → advanced)
TRADES = [
    (
        "ZWDG",
        "综采维修电工",
        "综采电工",
        E,
        True,
        "MK-DQ",
        ["JD-001", "JD-002", "JD-003", "JD-004", "JD-007", "JD-005", "JD-006", "JD-020"],
    ),
    (
        "KWDG",
        "矿井维修电工",
        "维修电工",
        E,
        True,
        "MK-DQ",
        ["JD-001", "JD-002", "JD-008", "JD-003", "JD-007", "JD-005", "JD-006", "JD-019"],
    ),
    (
        "KWQG",
        "矿井维修钳工",
        "维修钳工,钳工",
        E,
        True,
        None,
        ["JD-010", "JD-009", "JD-004", "JD-013", "JD-014", "JD-019", "GL-002"],
    ),
    (
        "JDQG",
        "井下电钳工",
        "电钳工",
        E,
        True,
        "MK-DQ",
        ["JD-001", "JD-010", "JD-008", "JD-003", "JD-002", "JD-009", "JD-019"],
    ),
    (
        "TSJ",
        "主提升机操作工",
        "主提升机司机,绞车司机",
        E,
        False,
        "MK-TS",
        ["JD-011", "JD-001", "JD-012", "JD-005", "JD-019", "GL-002"],
    ),
    (
        "DSJ",
        "带式输送机司机",
        "皮带司机,胶带输送机司机",
        E,
        True,
        None,
        ["JD-013", "JD-001", "JD-009", "JD-005", "JD-019", "GL-002"],
    ),
    ("BG", "矿井泵工", "水泵工,泵工", E, True, None, ["JD-014", "JD-001", "TF-005", "JD-006", "JD-019"]),
    (
        "TFJ",
        "主通风机操作工",
        "主扇司机,通风机司机",
        E,
        False,
        None,
        ["JD-015", "TF-001", "JD-001", "JD-006", "JD-005", "JD-019"],
    ),
    (
        "BDS",
        "变电所值班员",
        "变电所值班工",
        E,
        True,
        None,
        ["JD-016", "JD-001", "JD-002", "JD-007", "JD-005", "JD-019"],
    ),
    (
        "JCG",
        "安全仪器监测工",
        "监测工,安全监测工",
        E,
        True,
        "MK-JK",
        ["JD-017", "JD-018", "JD-001", "JD-005", "JD-019", "GL-002"],
    ),
    ("CMJ", "采煤机司机", "采煤司机", P, True, "MK-CM", ["SC-001", "SC-004", "JD-009", "SC-002", "JD-020", "JD-019"]),
    ("ZJG", "液压支架工", "支架工", P, True, None, ["SC-002", "SC-004", "JD-009", "JD-020", "GL-002"]),
    ("ZJJ", "综掘机司机", "掘进机司机", P, True, "MK-CM", ["SC-003", "SC-005", "JD-009", "JD-010", "JD-019", "GL-002"]),
    (
        "WJG",
        "瓦斯检查工",
        "瓦检员,瓦检工",
        S,
        True,
        "MK-WJ",
        ["TF-002", "TF-001", "JD-018", "TF-004", "TF-003", "GL-002"],
    ),
    ("TFG", "矿井通风工", "通风工", S, True, None, ["TF-001", "TF-008", "TF-009", "TF-004", "TF-003", "GL-002"]),
    (
        "AJG",
        "安全检查工",
        "安检员,安检工",
        S,
        True,
        "MK-AJ",
        ["TF-007", "AQ-006", "TF-001", "TF-005", "TF-004", "GL-002"],
    ),
    ("BPG", "爆破工", "放炮员,爆破员", P, True, "MK-BP", ["SC-006", "SC-007", "SC-005", "TF-004", "GL-002"]),
    ("TFS", "探放水工", "探放水员", S, True, "MK-TF", ["TF-006", "TF-005", "JD-014", "TF-004", "GL-002"]),
]

# code, name, order, national level, high skill
RANKS = [
    ("XT", "学徒工", 5, None, False),
    ("L5", "初级工", 10, 5, False),
    ("L4", "中级工", 20, 4, False),
    ("L3", "高级工", 30, 3, True),
    ("L2", "技师", 40, 2, True),
    ("L1", "高级技师", 50, 1, True),
]
LADDER = ["L5", "L4", "L3", "L2", "L1"]

C, B, V, M, W = (  # W for web: e-learning
    tr.Course.Delivery.CLASSROOM,
    tr.Course.Delivery.PRACTICAL_BASE,
    tr.Course.Delivery.SIMULATION,
    tr.Course.Delivery.MENTORING,
    tr.Course.Delivery.ELEARNING,
)
# code, title, theory hours, practical hours, delivery
COURSES = [
    ("AQ-001", "煤矿安全规程", 24, 0, C),
    ("AQ-002", "煤矿安全生产法律法规", 16, 0, C),
    ("AQ-003", "矿井灾害预防与应急避险", 16, 8, V),
    ("AQ-004", "自救器使用与现场急救", 4, 8, B),
    ("AQ-005", "职业病危害防治", 8, 0, W),
    ("AQ-006", "井下安全生产标准化", 12, 4, C),
    ("AQ-007", "新工人入井安全培训", 48, 24, C),
    ("AQ-008", "年度安全再培训", 16, 4, C),
    ("AQ-009", "安全生产管理人员安全生产知识和管理能力", 32, 16, C),
    ("AQ-010", "安全生产管理人员年度再培训", 12, 4, C),
    ("AQ-011", "师带徒现场实习", 0, 120, M),
    ("JD-001", "电工基础", 32, 16, C),
    ("JD-002", "矿井供电系统", 24, 16, C),
    ("JD-003", "防爆电气设备检修", 16, 32, B),
    ("JD-004", "综采设备维护", 16, 40, B),
    ("JD-005", "PLC 控制基础", 24, 24, B),
    ("JD-006", "变频器应用", 16, 24, B),
    ("JD-007", "矿用高压开关与继电保护", 16, 16, C),
    ("JD-008", "矿用电缆连接与故障查找", 8, 24, B),
    ("JD-009", "液压传动基础", 24, 8, C),
    ("JD-010", "机械识图与钳工技能", 16, 32, B),
    ("JD-011", "矿井提升设备操作", 16, 32, B),
    ("JD-012", "提升机电控系统", 24, 16, C),
    ("JD-013", "带式输送机运行与维护", 16, 24, B),
    ("JD-014", "矿井排水设备", 16, 16, B),
    ("JD-015", "主通风机运行与维护", 16, 16, B),
    ("JD-016", "变电所运行管理", 24, 16, C),
    ("JD-017", "安全监测监控系统", 24, 24, B),
    ("JD-018", "瓦斯检测仪器使用", 8, 16, B),
    ("JD-019", "设备故障诊断技术", 24, 24, V),
    ("JD-020", "智能化综采工作面", 24, 16, V),
    ("SC-001", "采煤机操作与维护", 24, 40, B),
    ("SC-002", "液压支架操作与维护", 16, 40, B),
    ("SC-003", "综掘机操作与维护", 24, 40, B),
    ("SC-004", "采煤工艺与顶板管理", 24, 8, C),
    ("SC-005", "掘进工艺与巷道支护", 24, 8, C),
    ("SC-006", "井下爆破作业安全技术", 40, 30, B),
    ("SC-007", "民用爆炸物品安全管理", 8, 0, C),
    ("TF-001", "矿井通风基础", 24, 8, C),
    ("TF-002", "瓦斯检查作业", 40, 30, B),
    ("TF-003", "瓦斯抽采技术", 24, 24, C),
    ("TF-004", "煤与瓦斯突出防治", 32, 16, C),
    ("TF-005", "矿井防治水", 24, 16, C),
    ("TF-006", "探放水作业", 40, 30, B),
    ("TF-007", "安全检查作业", 40, 30, C),
    ("TF-008", "通风设施构筑", 8, 24, B),
    ("TF-009", "矿井粉尘防治", 8, 8, C),
    ("GL-001", "班组长安全管理", 24, 0, C),
    ("GL-002", "技术革新与合理化建议", 16, 8, C),
    ("GL-003", "技师技术论文写作", 16, 0, W),
    ("GL-004", "传帮带教学方法", 8, 8, C),
    ("GL-005", "特种作业复审培训", 8, 0, C),
]
GENERAL_BY_RANK = {"L5": "AQ-001", "L4": "AQ-006", "L3": "AQ-003", "L2": "GL-003", "L1": "GL-004"}
SPECIAL_INITIAL_COURSE = {
    "MK-DQ": "JD-003",
    "MK-BP": "SC-006",
    "MK-JK": "JD-017",
    "MK-WJ": "TF-002",
    "MK-AJ": "TF-007",
    "MK-TS": "JD-011",
    "MK-CM": "SC-001",
    "MK-TF": "TF-006",
}

PT, OF = tr.Unit.Kind.PRODUCTION_TEAM, tr.Unit.Kind.OFFICE
# department code, name, kind, [(crew code, crew name, trades)]
DEPARTMENTS = [
    (
        "ZC1",
        "综采一队",
        PT,
        [
            ("ZC1-01", "检修班", ["ZWDG", "KWQG", "ZJG"]),
            ("ZC1-02", "生产一班", ["CMJ", "ZJG", "DSJ", "ZWDG"]),
            ("ZC1-03", "生产二班", ["CMJ", "ZJG", "DSJ", "ZWDG"]),
        ],
    ),
    (
        "ZC2",
        "综采二队",
        PT,
        [
            ("ZC2-01", "检修班", ["ZWDG", "KWQG", "ZJG"]),
            ("ZC2-02", "生产一班", ["CMJ", "ZJG", "DSJ"]),
            ("ZC2-03", "生产二班", ["CMJ", "ZJG", "ZWDG"]),
        ],
    ),
    (
        "JJ2",
        "掘进二队",
        PT,
        [
            ("JJ2-01", "掘进一班", ["ZJJ", "JDQG", "BPG", "KWQG"]),
            ("JJ2-02", "掘进二班", ["ZJJ", "JDQG", "BPG"]),
            ("JJ2-03", "机电班", ["JDQG", "KWQG", "DSJ"]),
        ],
    ),
    (
        "JD",
        "机电科",
        OF,
        [
            ("JD-01", "供电班", ["BDS", "KWDG"]),
            ("JD-02", "提升班", ["TSJ", "KWDG", "KWQG"]),
            ("JD-03", "监测监控班", ["JCG", "KWDG"]),
        ],
    ),
    (
        "TF",
        "通风科",
        OF,
        [
            ("TF-01", "瓦斯检查班", ["WJG"]),
            ("TF-02", "通风班", ["TFG", "TFJ"]),
            ("TF-03", "防突探放水班", ["TFS", "AJG", "WJG"]),
        ],
    ),
    ("YS", "运输队", PT, [("YS-01", "皮带班", ["DSJ", "JDQG"]), ("YS-02", "排水班", ["BG", "KWQG"])]),
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤党雒拓"
)
GIVEN = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁健亮俊峰浩凯龙林东海宏志"
    "国建文永庆兵春晓新利成福昌生忠民江山荣德宝锋军红玉丽娟艳"
)

HONOURS = [
    ("全国煤炭行业技术能手", cert.Honour.Level.INDUSTRY, "中国煤炭工业协会", "中煤协字〔{y}〕{n}号"),
    ("三秦工匠", cert.Honour.Level.PROVINCE, "陕西省总工会", "陕工发〔{y}〕{n}号"),
    ("陕西省技术能手", cert.Honour.Level.PROVINCE, "陕西省人力资源和社会保障厅", "陕人社发〔{y}〕{n}号"),
    ("集团公司技术能手", cert.Honour.Level.GROUP, "陕西煤业化工集团有限责任公司", "陕煤化发〔{y}〕{n}号"),
    ("集团公司首席技师", cert.Honour.Level.GROUP, "陕西煤业化工集团有限责任公司", "陕煤化发〔{y}〕{n}号"),
    ("全国五一劳动奖章", cert.Honour.Level.NATIONAL, "中华全国总工会", "总工发〔{y}〕{n}号"),
    ("矿级岗位能手", cert.Honour.Level.MINE, "示范煤矿", "示煤发〔{y}〕{n}号"),
    ("矿级岗位能手", cert.Honour.Level.MINE, "示范煤矿", "示煤发〔{y}〕{n}号"),
]

PROVINCE_BODY = "陕西省应急管理厅"
SKILL_BODY = "陕西煤业化工集团职业技能等级认定中心"


# The practical scoring demo (build_practical): a scheme as mines write it, and the sitting it is used at.
DEMO_SCHEME = "综采维修电工（中级工）实操评分表"
DEMO_PRACTICAL_SITTING = "KP-DEMO-SC"
DEMO_SCHEME_ITEMS = [
    ("停送电操作程序", "按停电、验电、放电、挂牌的顺序操作", 40, "每错一处扣5分", 5, 0, False),
    ("验电放电", "用同电压等级的验电笔验电并放电", 30, "每错一处扣10分", 10, 0, False),
    ("工具使用", "正确选用和使用工具", 30, "每错一处扣2分；每超时1分钟扣1分", 2, 1, False),
    ("带电作业", "", 0, "出现即不合格", 0, 0, True),
    ("未验电", "", 0, "出现即不合格", 0, 0, True),
]


# The online theory exam demo (build_exams): a small bank for 综采维修电工 中级工, a paper drawn from it by
# rules (单选 10 × 5, 多选 5 × 6, 判断 10 × 2 = 100) and a session open for two weeks with the demo trainee on it.
DEMO_EXAM_SITTING = "KP-DEMO-JK"
DEMO_EXAM_SESSION = "综采维修电工中级工理论机考（示范）"
DEMO_SINGLE = [
    ("井下供电的“三无”是指无鸡爪子、无羊尾巴和（　）。", ["无明接头", "无接地", "无漏电", "无过载"], "A", "供电安全"),
    ("煤矿井下电气设备检修时，必须先（　）。", ["停电", "验电", "放电", "挂牌"], "A", "供电安全"),
    ("矿用隔爆型电气设备的标志是（　）。", ["Ex d I", "Ex e II", "Ex i II", "Ex p I"], "A", "机电设备"),
    ("井下接地网上任一保护接地点的接地电阻值不得超过（　）。", ["2 Ω", "4 Ω", "10 Ω", "1 Ω"], "A", "供电安全"),
    ("采煤机截割电机的冷却方式一般为（　）。", ["水冷", "风冷", "油冷", "自然冷却"], "A", "机电设备"),
    ("井下低压电网的漏电保护装置应（　）检查一次。", ["每天", "每周", "每月", "每季度"], "A", "安全规程"),
    ("使用中的防爆电气设备的防爆性能检查，应（　）一次。", ["每月", "每季", "每半年", "每年"], "A", "安全规程"),
    ("液压支架的初撑力不足时，首先应检查（　）。", ["泵站压力", "立柱长度", "顶板岩性", "推移千斤顶"], "A", "机电设备"),
    ("高压电缆的泄漏和耐压试验应（　）进行一次。", ["每年", "每月", "每季", "每两年"], "A", "供电安全"),
    ("矿井瓦斯浓度达到（　）时，必须停止用电钻打眼。", ["1.0%", "0.5%", "1.5%", "2.0%"], "A", "一通三防"),
    (
        "刮板输送机紧链时，操作人员必须（　）。",
        ["站在安全处", "站在链旁", "用手扶链", "站机头上"],
        "A",
        "机电设备",
    ),
    ("井下电气设备的接地线应使用（　）。", ["镀锌铁线或铜线", "铝线", "绝缘导线", "钢丝绳"], "A", "供电安全"),
]
DEMO_MULTIPLE = [
    ("停电检修时必须做到（　）。", ["停电", "验电", "放电", "挂停电牌"], "ABCD", "供电安全"),
    ("井下“三大保护”是指（　）。", ["过流保护", "漏电保护", "保护接地", "欠压保护"], "ABC", "供电安全"),
    ("隔爆外壳失爆的情形有（　）。", ["隔爆面锈蚀", "螺栓缺失", "外壳严重变形", "外壳刷漆"], "ABC", "机电设备"),
    (
        "采煤机司机开机前应检查（　）。",
        ["截齿齐全", "喷雾正常", "电缆完好", "顶板来压"],
        "ABC",
        "机电设备",
    ),
    ("“一通三防”中的三防是指（　）。", ["防瓦斯", "防煤尘", "防灭火", "防水"], "ABC", "一通三防"),
    ("下列属于电气火灾原因的有（　）。", ["短路", "过负荷", "接触电阻过大", "接地良好"], "ABC", "安全规程"),
]
DEMO_TRUE_FALSE = [
    ("井下可以带电检修电气设备。", "F", "安全规程"),
    ("井下电气设备的金属外壳必须接地。", "T", "供电安全"),
    ("瓦斯浓度超过规定时，可以继续送电作业。", "F", "一通三防"),
    ("防爆电气设备的隔爆面可以涂油漆防锈。", "F", "机电设备"),
    ("检修完毕送电前，必须确认所有人员已撤离。", "T", "安全规程"),
    ("矿用橡套电缆可以随意剥开接线。", "F", "供电安全"),
    ("采煤机停机后必须打开隔离开关并闭锁。", "T", "机电设备"),
    ("井下使用的电缆必须是阻燃电缆。", "T", "供电安全"),
    ("漏电保护装置可以长期甩掉不用。", "F", "供电安全"),
    ("井下严禁使用灯泡取暖。", "T", "安全规程"),
    ("一台开关可以同时控制两台以上的设备而无须标识。", "F", "机电设备"),
    ("井下电气作业必须由持证电工进行。", "T", "安全规程"),
]


def demo_load(*, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> dict[str, int]:
    """Build or refresh the demo mine; return the number of rows of each model afterwards."""
    builder = _MineBuilder(seed=seed, today=today or dt.date.today())
    with transaction.atomic():
        builder.build()
    _ranks_derive(builder)
    return demo_counts()


def demo_counts() -> dict[str, int]:
    """Return the number of rows of each demo model, keyed by model label."""
    return {model._meta.label: model.objects.count() for model in DEMO_MODELS}


DEMO_MODELS = [
    tr.Unit,
    tr.SpecialOperation,
    tr.Rank,
    tr.Trade,
    tr.Course,
    tr.Catalog,
    tr.TrainingPackage,
    tr.PackageCourse,
    tr.Worker,
    tr.WorkerTrade,
    tr.AwayPeriod,
    tr.TrainingClass,
    tr.Attendance,
    cert.Assessment,
    cert.AssessmentResult,
    cert.ComprehensiveReview,
    cert.RuleSet,
    cert.RankRecord,
    cert.Certificate,
    cert.CertificateReview,
    cert.Honour,
    cert.Mentorship,
    cert.ComplianceRule,
    User,
]


def _ranks_derive(builder: _MineBuilder) -> None:
    """
    Let the roll-up engine derive the ranks earned since the system started: the
    demo's history is already decided, so each award day is replayed in auto
    mode; then today's evaluation leaves the latest sittings' awards pending for HR.
    """
    from certifications.ranks import services

    for day, employee_nos in sorted(builder.engine_days.items()):
        services.ranks_recompute(worker_ids=sorted(builder.workers[n] for n in employee_nos), on=day, mode="auto")
    services.ranks_recompute(on=builder.today, mode="confirm")


def sync(model, key: tuple[str, ...], rows: list[dict]) -> dict[tuple, int]:
    """Make `model` hold `rows`, matched on `key`: create missing rows, update differing ones. Return key → pk."""
    existing = {tuple(getattr(obj, f) for f in key): obj for obj in _every_row(model)}
    to_create, to_update, changed = [], [], set()
    seen = set()
    for row in rows:
        row_key = tuple(row[f] for f in key)
        assert row_key not in seen, f"{model.__name__}: duplicate demo key {row_key}"
        seen.add(row_key)
        obj = existing.get(row_key)
        if obj is None:
            to_create.append(model(**row))
            continue
        diff = [f for f, value in row.items() if getattr(obj, f) != value]
        if diff:
            for f in diff:
                setattr(obj, f, row[f])
            to_update.append(obj)
            changed.update(diff)
    # Rows with a door (results, attendance, reviews, rank records, certificates) are written inside it and
    # announced: a reload that changes a demo score flags the awards resting on it, as any other route does.
    door = door_of(model)
    before = door.stored(obj.pk for obj in to_update) if door is not None else {}
    with door.opened() if door is not None else nullcontext():
        if to_create:
            if getattr(model._meta, "simple_history_manager_attribute", None):
                bulk_create_with_history(to_create, model, batch_size=500, default_change_reason="demo mine")
            else:
                model.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            model.objects.bulk_update(to_update, bump(to_update, sorted(changed)), batch_size=500)
    if door is not None:
        door.written(saved=[*to_create, *to_update], before=before, reason="demo mine")
    return {tuple(values[:-1]): values[-1] for values in _every_row(model).values_list(*key, "pk")}


def _every_row(model):
    # Soft-deleted rows still hold their keys; a live row with the same key wins (it comes last).
    rows = model._base_manager.all()
    if any(f.name == "deleted_at" for f in model._meta.fields):
        rows = rows.order_by(F("deleted_at").asc(nulls_last=True))
    return rows


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


class _MineBuilder:
    def __init__(self, *, seed: int, today: dt.date):
        self.seed = seed
        self.today = today

    def rng(self, *parts) -> random.Random:
        # One generator per entity: an entity's data does not shift when another entity changes.
        return random.Random(f"{self.seed}:" + ":".join(str(p) for p in parts))

    def build(self) -> None:
        self.build_reference()
        self.build_workforce()
        self.build_ranks()
        self.build_certificates()
        self.build_classes()
        self.build_assessments()
        self.build_honours_and_mentoring()
        self.build_users()
        self.build_practical()
        self.build_exams()

    # Reference data ----------------------------------------------------------------------------------

    def build_reference(self) -> None:
        units = sync(
            tr.Unit, ("code",), [{"code": MINE[0], "name": MINE[1], "kind": tr.Unit.Kind.MINE, "parent_id": None}]
        )
        mine_id = units[(MINE[0],)]
        rows = [
            {"code": code, "name": name, "kind": kind, "parent_id": mine_id, "sort_order": i * 10}
            for i, (code, name, kind, _crews) in enumerate(DEPARTMENTS, start=1)
        ]
        units = sync(tr.Unit, ("code",), rows)
        rows = [
            {
                "code": crew,
                "name": f"{name}{crew_name}",
                "kind": tr.Unit.Kind.CREW,
                "parent_id": units[(code,)],
                "sort_order": i * 10 + j,
            }
            for i, (code, name, _kind, crews) in enumerate(DEPARTMENTS, start=1)
            for j, (crew, crew_name, _trades) in enumerate(crews, start=1)
        ]
        self.units = {code: pk for (code,), pk in sync(tr.Unit, ("code",), rows).items()}

        self.operations = _by_code(
            sync(
                tr.SpecialOperation,
                ("code",),
                [{"code": code, "name": name, "short_name": short} for code, name, short in SPECIAL_OPERATIONS],
            )
        )
        self.ranks = _by_code(
            sync(
                tr.Rank,
                ("code",),
                [
                    {"code": code, "name": name, "order": order, "national_level": level, "high_skill": high}
                    for code, name, order, level, high in RANKS
                ],
            )
        )
        self.rank_names = {code: name for code, name, *_ in RANKS}
        self.trades = _by_code(
            sync(
                tr.Trade,
                ("code",),
                [
                    {
                        "code": code,
                        "name": name,
                        "aliases": aliases,
                        "discipline": discipline,
                        "underground": underground,
                        "category": tr.PersonnelCategory.SPECIAL_OPERATION if op else tr.PersonnelCategory.OTHER,
                    }
                    for code, name, aliases, discipline, underground, op, _courses in TRADES
                ],
            )
        )
        self.trade_info = {row[0]: row for row in TRADES}
        sync(
            tr.Trade.special_operations.through,
            ("trade_id", "specialoperation_id"),
            [
                {"trade_id": self.trades[code], "specialoperation_id": self.operations[op]}
                for code, _n, _a, _d, _u, op, _c in TRADES
                if op
            ],
        )

        self.course_hours = {code: (Decimal(t), Decimal(p)) for code, _title, t, p, _d in COURSES}
        self.course_titles = {code: title for code, title, *_ in COURSES}
        self.courses = _by_code(
            sync(
                tr.Course,
                ("code",),
                [
                    {
                        "code": code,
                        "title": title,
                        "theory_hours": Decimal(t),
                        "practical_hours": Decimal(p),
                        "delivery": d,
                    }
                    for code, title, t, p, d in COURSES
                ],
            )
        )
        catalogs = _by_code(
            sync(
                tr.Catalog,
                ("code",),
                [
                    {"code": "CAT-2026-JD", "name": "2026 机电培训目录", "effective_from": dt.date(2026, 1, 1)},
                    {"code": "CAT-2026-SC", "name": "2026 生产安全培训目录", "effective_from": dt.date(2026, 1, 1)},
                ],
            )
        )
        in_catalog = {
            "CAT-2026-JD": [c for c, *_ in COURSES if c.startswith(("AQ", "JD", "GL"))],
            "CAT-2026-SC": [c for c, *_ in COURSES if c.startswith(("AQ", "SC", "TF", "GL"))],
        }
        sync(
            tr.Catalog.courses.through,
            ("catalog_id", "course_id"),
            [
                {"catalog_id": catalogs[cat], "course_id": self.courses[course]}
                for cat, codes in in_catalog.items()
                for course in codes
            ],
        )

        # A package per trade × national rank: a general course, two or three trade courses, one or two electives.
        self.package_lines: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        package_rows, line_specs = [], []
        for code, name, _a, discipline, _u, _op, trade_pool in TRADES:
            for level, rank in enumerate(LADDER):
                rng = self.rng("package", code, rank)
                pool = [c for c in trade_pool if c != GENERAL_BY_RANK[rank]]
                core = pool[min(level, len(pool) - 2) : min(level, len(pool) - 2) + 2]
                others = [c for c in pool if c not in core]
                lines = [(GENERAL_BY_RANK[rank], True)] + [(c, True) for c in core]
                lines += [(c, False) for c in rng.sample(others, k=min(len(others), rng.choice((1, 2))))]
                self.package_lines[(code, rank)] = lines
                package_rows.append(
                    {
                        "code": f"{code}-{rank}",
                        "name": f"{name}{self.rank_names[rank]}培训套餐",
                        "trade_id": self.trades[code],
                        "rank_id": self.ranks[rank],
                        "catalog_id": catalogs["CAT-2026-JD" if discipline == E else "CAT-2026-SC"],
                    }
                )
                line_specs.append((f"{code}-{rank}", lines))
        self.packages = _by_code(sync(tr.TrainingPackage, ("code",), package_rows))
        line_rows = []
        for package, lines in line_specs:
            for order, (course, mandatory) in enumerate(lines, start=1):
                theory, practical = self.course_hours[course]
                line_rows.append(
                    {
                        "package_id": self.packages[package],
                        "course_id": self.courses[course],
                        "theory_hours": theory,
                        "practical_hours": practical,
                        "mandatory": mandatory,
                        "sort_order": order * 10,
                    }
                )
        sync(tr.PackageCourse, ("package_id", "course_id"), line_rows)
        self.build_rule_sets()

        sync(
            cert.ComplianceRule,
            ("name", "effective_from", "category"),
            [
                {
                    "name": "煤矿安全培训规定 2018",
                    "effective_from": dt.date(2018, 1, 1),
                    "category": "",
                    "trade_id": None,
                },
                {
                    "name": "煤矿安全培训规定 2018（安全生产管理人员）",
                    "effective_from": dt.date(2018, 1, 1),
                    "category": tr.PersonnelCategory.SAFETY_MANAGER,
                    "trade_id": None,
                    "initial_hours": Decimal("48"),
                    "annual_hours": Decimal("16"),
                },
            ],
        )

    def build_rule_sets(self) -> None:
        old = {  # 2018-style standards
            "L5": {"years_in_trade": Decimal("1"), "allow_direct_entry": True},
            "L4": {"years_at_previous_rank": Decimal("4"), "years_in_trade": Decimal("6")},
            "L3": {"years_at_previous_rank": Decimal("5")},
            "L2": {"years_at_previous_rank": Decimal("4"), "require_review": True},
            "L1": {"years_at_previous_rank": Decimal("4"), "require_review": True},
        }
        new = {
            "L4": {"years_at_previous_rank": Decimal("3"), "years_in_trade": Decimal("5")},
            "L3": {"years_at_previous_rank": Decimal("4"), "years_in_trade": Decimal("10")},
            "L2": {
                "years_at_previous_rank": Decimal("5"),
                "require_review": True,
                "theory_weight": Decimal("40"),
                "practical_weight": Decimal("60"),
                "composite_pass_mark": Decimal("60"),
            },
        }
        base = {
            "years_at_previous_rank": None,
            "years_in_trade": None,
            "require_review": False,
            "allow_direct_entry": False,
            "theory_weight": None,
            "practical_weight": None,
            "composite_pass_mark": None,
        }
        rows = []
        for code, _n, _a, discipline, _u, op, _c in TRADES:
            extra = {"exam_valid_months": 12 if op else None}
            for rank in LADDER:
                package_id = self.packages[f"{code}-{rank}"]
                electives = 1 if any(not m for _c, m in self.package_lines[(code, rank)]) else 0
                rows.append(
                    {
                        **base,
                        **extra,
                        **old[rank],
                        "package_id": package_id,
                        "name": "2018 标准",
                        "effective_from": dt.date(2018, 1, 1),
                        "min_electives": electives,
                    }
                )
                # The electromechanical trades already moved to the newer standard.
                if discipline == E and rank in new:
                    rows.append(
                        {
                            **base,
                            **extra,
                            **new[rank],
                            "package_id": package_id,
                            "name": "2022 标准",
                            "effective_from": dt.date(2022, 6, 1),
                            "min_electives": electives,
                        }
                    )
        sync(cert.RuleSet, ("package_id", "effective_from"), rows)

    # Workers -----------------------------------------------------------------------------------------

    def build_workforce(self) -> None:
        self.people: list[dict] = []  # plain descriptions, used by every later step
        number = 100000

        def person(unit: str, dept: str, trades: list[str] | None, role: str, index: int) -> dict:
            nonlocal number
            number += 1
            employee_no = str(number)
            rng = self.rng("worker", employee_no)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
            if role in ("principal", "manager"):
                years = rng.randint(14, 28)
            elif role == "leader":
                years = rng.randint(10, 24)
            elif role == "trainee":
                years = 6
            elif rng.random() < 0.05:
                years = 0  # hired this year: a new underground worker, still with a mentor
            else:
                years = rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 25, 28))
            hired = self.today - days(years * 365 + rng.randint(40, 300) if years else rng.randint(35, 230))
            primary = trades[0] if role == "trainee" else (rng.choice(trades) if trades else None)
            underground = primary is None or self.trade_info[primary][4]
            started = hired + days(rng.randint(10, 40))
            underground_start = started if underground and started < self.today else None
            status = tr.Worker.Status.ACTIVE
            roll = rng.random()
            if role == "crew" and years >= 2 and roll < 0.03:
                status = tr.Worker.Status.LEFT
            elif role == "crew" and years >= 2 and roll < 0.06:
                status = tr.Worker.Status.AWAY
            if role == "principal":
                category = tr.PersonnelCategory.PRINCIPAL
            elif role == "manager":
                category = tr.PersonnelCategory.SAFETY_MANAGER
            elif primary and self.trade_info[primary][5]:
                category = tr.PersonnelCategory.SPECIAL_OPERATION
            else:
                category = tr.PersonnelCategory.OTHER
            appointed = None
            if role in ("principal", "manager"):
                # The head of 运输队 was appointed recently: the manager assessment is still due.
                appointed = self.today - days(75) if unit == "YS" else hired + days(rng.randint(6, 12) * 365)
            held = []
            if primary:
                held.append((primary, True, min(started, self.today - days(1))))
                others = [t for t in (trades or []) if t != primary]
                if others and years >= 4 and rng.random() < 0.3:
                    held.append((rng.choice(others), False, hired + days(rng.randint(2, years - 1) * 365)))
            return {
                "employee_no": employee_no,
                "name": name,
                "unit": unit,
                "dept": dept,
                "role": role,
                "years": years,
                "hire_date": hired,
                "underground_start": underground_start,
                "category": category,
                "status": status,
                "appointed_on": appointed,
                "is_team_leader": role == "leader",
                "trades": held,
                "index": index,
            }

        self.people.append(person(MINE[0], MINE[0], None, "principal", 0))
        for i in (1, 2):
            self.people.append(person(MINE[0], MINE[0], ["AJG"], "manager", i))
        for dept, _name, _kind, crews in DEPARTMENTS:
            self.people.append(person(dept, dept, [crews[0][2][0]], "manager", 0))
            for crew, _crew_name, trades in crews:
                size = self.rng("crew", crew).randint(16, 19)
                for i in range(size):
                    role = "leader" if i == 0 else ("trainee" if crew == "ZC1-01" and i == 1 else "crew")
                    self.people.append(person(crew, dept, trades, role, i))

        self.workers = _by_code(
            sync(
                tr.Worker,
                ("employee_no",),
                [
                    {
                        "employee_no": p["employee_no"],
                        "name": p["name"],
                        "name_pinyin": pinyin_key(p["name"]),
                        "name_initials": pinyin_initials(p["name"]),
                        "unit_id": self.units[p["unit"]],
                        "category": p["category"],
                        "is_team_leader": p["is_team_leader"],
                        "hire_date": p["hire_date"],
                        "underground_start": p["underground_start"],
                        "appointed_on": p["appointed_on"],
                        "status": p["status"],
                    }
                    for p in self.people
                ],
            )
        )
        sync(
            tr.WorkerTrade,
            ("worker_id", "trade_id"),
            [
                {
                    "worker_id": self.workers[p["employee_no"]],
                    "trade_id": self.trades[trade],
                    "is_primary": primary,
                    "started_on": started,
                    "ended_on": None,
                }
                for p in self.people
                for trade, primary, started in p["trades"]
            ],
        )

        away_rows = []
        for p in self.people:
            rng = self.rng("away", p["employee_no"])
            if p["status"] == tr.Worker.Status.AWAY:
                start = self.today - days(rng.randint(40, 420))
                away_rows.append((p, start, None, rng.choice(("工伤休养", "病休", "借调地面单位"))))
            elif p["role"] == "crew" and p["years"] >= 3 and rng.random() < 0.06:
                start = self.today - days(rng.randint(200, 900))
                end = start + days(rng.randint(60, 450))
                if end < self.today:
                    away_rows.append((p, start, end, rng.choice(("工伤休养", "病休", "脱产学习", "借调地面单位"))))
        self.away = {p["employee_no"]: (start, end) for p, start, end, _r in away_rows}
        sync(
            tr.AwayPeriod,
            ("worker_id",),
            [
                {"worker_id": self.workers[p["employee_no"]], "start": start, "end": end, "reason": reason}
                for p, start, end, reason in away_rows
            ],
        )

    def on_post(self, p: dict, day: dt.date) -> bool:
        """Return True when the person was employed and at work on that day."""
        if day < p["hire_date"] or (p["status"] == tr.Worker.Status.LEFT and day > self.today - days(120)):
            return False
        away = self.away.get(p["employee_no"])
        return not (away and away[0] <= day and (away[1] is None or day <= away[1]))

    # Ranks -------------------------------------------------------------------------------------------

    def build_ranks(self) -> None:
        # Each step after the years the standards ask for (技师 under the 2022 standard: five years at 高级工).
        # Ranks held before the system started (SYSTEM_START) come from the old ledger; the engine derives
        # the later ones from the classes and exams build_classes and build_assessments add for them.
        gaps = {"L5": (1, 2), "L4": (4, 6), "L3": (5, 7), "L2": (5, 6), "L1": (4, 7)}
        chance = {"L5": 0.92, "L4": 0.78, "L3": 0.62, "L2": 0.4, "L1": 0.25}
        rows, self.held_rank, self.engine_awards, self.engine_days = [], {}, [], {}
        for p in self.people:
            for trade, primary, started in p["trades"]:
                rng = self.rng("ranks", p["employee_no"], trade)
                day = started
                for level, rank in enumerate(LADDER):
                    low, high = gaps[rank]
                    day = add_years(day, rng.randint(low, high)) + days(rng.randint(0, 120))
                    if day > self.today - days(30) or rng.random() > chance[rank] or (not primary and level > 0):
                        break
                    self.held_rank[(p["employee_no"], trade)] = (rank, day)
                    if day >= SYSTEM_START:
                        self.engine_awards.append((p, trade, rank, day))
                        self.engine_days.setdefault(day, set()).add(p["employee_no"])
                    digits = f"610800{5 - level}{p['employee_no']}{TRADE_INDEX[trade]:02d}{level:02d}0000"
                    rows.append(
                        {
                            "worker_id": self.workers[p["employee_no"]],
                            "trade_id": self.trades[trade],
                            "rank_id": self.ranks[rank],
                            "status": cert.RankRecord.Status.AWARDED,
                            "source": cert.RankRecord.Source.IMPORT,
                            "awarded_on": day,
                            "certificate_no": f"Y{digits}",
                            "evidence": {"imported_from": "2023 培训台账"},
                        }
                    )
        self.rank_rows = rows
        sync(
            cert.RankRecord,
            ("worker_id", "trade_id", "rank_id"),
            [row for row in rows if row["awarded_on"] < SYSTEM_START],
        )
        reviews = [
            {
                "worker_id": row["worker_id"],
                "trade_id": row["trade_id"],
                "rank_id": row["rank_id"],
                "held_on": row["awarded_on"] - days(30),
                "passed": True,
                "panel": "集团公司技能等级评审委员会",
                "remarks": "",
            }
            for row in rows
            if row["rank_id"] in (self.ranks["L2"], self.ranks["L1"])
        ]
        sync(cert.ComprehensiveReview, ("worker_id", "trade_id", "rank_id"), reviews)

    def next_rank(self, p: dict, trade: str) -> str | None:
        held = self.held_rank.get((p["employee_no"], trade))
        if held is None:
            return "L5"
        position = LADDER.index(held[0])
        return LADDER[position + 1] if position + 1 < len(LADDER) else None

    # Certificates ------------------------------------------------------------------------------------

    def build_certificates(self) -> None:
        rows, reviews = [], []
        self.special_cohorts: dict[str, list[dict]] = {}
        for p in self.people:
            if not p["trades"] or p["years"] == 0:
                continue
            operation = self.trade_info[p["trades"][0][0]][5]
            if operation is None:
                continue
            rng = self.rng("certificate", p["employee_no"])
            roll = rng.random()
            if roll < 0.08:
                issued = add_years(self.today + days(rng.randint(5, 88)), -3)  # review falls due soon
            elif roll < 0.12:
                issued = add_years(self.today + days(rng.randint(5, 88)), -6) + days(1)  # expires soon
            elif roll < 0.32 and (cohort := self.cohort_for(p, operation, rng)):
                self.special_cohorts.setdefault(f"{operation}-{cohort}", []).append(p)
                issued = self.special_class_dates(operation, cohort)[1] + days(rng.randint(20, 40))
            else:
                issued = self.today - days(rng.randint(120, 2100))
            issued = max(issued, p["hire_date"] + days(30))
            number = f"T610802{p['employee_no']}{SO_INDEX[operation]:02d}{rng.randint(1000, 9999)}"
            # The last day of each period, as the clearance rules count it (docs/clearance.md).
            valid_until = last_day_after(issued, years=6)
            review_due = last_day_after(issued, years=3)
            next_due = review_due
            if review_due <= self.today:
                outcome_roll = rng.random()
                if outcome_roll < 0.85:
                    reviews.append((number, review_due - days(rng.randint(10, 55)), "passed"))
                    next_due = valid_until
                elif outcome_roll < 0.9:
                    reviews.append((number, review_due - days(rng.randint(10, 55)), "failed"))
            rows.append(
                {
                    "kind": cert.Certificate.Kind.SPECIAL_OPERATION,
                    "number": number,
                    "worker_id": self.workers[p["employee_no"]],
                    "special_operation_id": self.operations[operation],
                    "trade_id": None,
                    "rank_id": None,
                    "issuing_body": PROVINCE_BODY,
                    "first_issued_on": issued,
                    "issued_on": issued,
                    "valid_until": valid_until,
                    "next_review_due": next_due,
                    "status": cert.Certificate.Status.ACTIVE,
                }
            )
        self.reviews = reviews

        # Skill-level certificates for the ranks held from 中级工 up.
        for row in self.rank_rows:
            if row["rank_id"] in (self.ranks["L4"], self.ranks["L3"], self.ranks["L2"], self.ranks["L1"]):
                rows.append(
                    {
                        "kind": cert.Certificate.Kind.SKILL_LEVEL,
                        "number": row["certificate_no"],
                        "worker_id": row["worker_id"],
                        "special_operation_id": None,
                        "trade_id": row["trade_id"],
                        "rank_id": row["rank_id"],
                        "issuing_body": SKILL_BODY,
                        "first_issued_on": row["awarded_on"],
                        "issued_on": row["awarded_on"],
                        "valid_until": None,
                        "next_review_due": None,
                        "status": cert.Certificate.Status.ACTIVE,
                    }
                )
        # Safety managers passed the safety knowledge and management assessment, except the newly appointed one.
        for p in self.people:
            if p["appointed_on"] and p["appointed_on"] < self.today - days(180):
                issued = p["appointed_on"] + days(90)
                rows.append(
                    {
                        "kind": cert.Certificate.Kind.SAFETY_MANAGEMENT,
                        "number": f"AQGL{p['employee_no']}",
                        "worker_id": self.workers[p["employee_no"]],
                        "special_operation_id": None,
                        "trade_id": None,
                        "rank_id": None,
                        "issuing_body": "陕西省煤矿安全培训中心",
                        "first_issued_on": issued,
                        "issued_on": issued,
                        "valid_until": last_day_after(issued, years=3),
                        "next_review_due": None,
                        "status": cert.Certificate.Status.ACTIVE,
                    }
                )
        certificates = sync(cert.Certificate, ("kind", "number"), rows)
        special = cert.Certificate.Kind.SPECIAL_OPERATION
        sync(
            cert.CertificateReview,
            ("certificate_id",),
            [
                {
                    "certificate_id": certificates[(special, number)],
                    "reviewed_on": reviewed,
                    "outcome": outcome,
                    "training_hours": Decimal("8"),
                    "reviewer": PROVINCE_BODY,
                    "remarks": "",
                }
                for number, reviewed, outcome in reviews
            ],
        )

    def cohort_for(self, p: dict, operation: str, rng: random.Random) -> str | None:
        """Return which recent initial class ("1" or "2") this person took, if they were hired in time."""
        eligible = [c for c in ("1", "2") if p["hire_date"] < self.special_class_dates(operation, c)[0] - days(30)]
        return rng.choice(eligible) if eligible else None

    def special_class_dates(self, operation: str, cohort: str) -> tuple[dt.date, dt.date]:
        start = self.today - days((640 if cohort == "1" else 260) + SO_INDEX[operation] * 3)
        return start, start + days(14)

    # Classes and attendance ---------------------------------------------------------------------------

    def build_classes(self) -> None:
        classes: list[dict] = []
        attendance: list[tuple[str, dict, Decimal, Decimal, str]] = []
        K = tr.TrainingClass.Kind

        def add_class(code, name, course, kind, start, length, organiser, people, *, partial=True):
            theory, practical = self.course_hours[course]
            classes.append(
                {
                    "code": code,
                    "name": name,
                    "course_id": self.courses[course],
                    "kind": kind,
                    "start": start,
                    "end": start + days(length - 1),
                    "venue": "矿培训中心" if kind != K.UPSKILL else "矿实训基地",
                    "instructors": self.rng("instructors", code).choice(
                        ("李建国、王振华", "张卫东", "刘海涛、赵明", "陈志强")
                    ),
                    "capacity": max(40, len(people)),
                    "organiser_id": self.units[organiser],
                }
            )
            for p in people:
                rng = self.rng("attendance", code, p["employee_no"])
                t, pr, remark = theory, practical, ""
                if partial and rng.random() < 0.08:
                    t, pr, remark = (theory / 2).quantize(Decimal("1")), Decimal("0"), "中途请假"
                attendance.append((code, p, t, pr, remark))

        active = [p for p in self.people if p["trades"] or p["role"] in ("principal", "manager")]
        # Annual retraining (年度复训) per department, for each of the last three years.
        for i, (dept, name, _kind, _crews) in enumerate(DEPARTMENTS):
            for ago in (2, 1, 0):
                start = self.today - days(ago * 365 + 40 + i * 9)
                people = [
                    p
                    for p in active
                    if p["dept"] == dept
                    and p["years"] > 0
                    and self.on_post(p, start)
                    and self.rng("annual", dept, ago, p["employee_no"]).random() < 0.93
                ]
                add_class(
                    f"NX-{dept}-{3 - ago}",
                    f"{start.year}年{name}年度安全再培训",
                    "AQ-008",
                    K.ANNUAL,
                    start,
                    3,
                    dept,
                    people,
                )
        # Pre-job training (岗前) for the new hires, and their mentoring.
        new = [p for p in self.people if p["years"] == 0]
        for n, cohort in enumerate(
            (
                [p for p in new if p["hire_date"] < self.today - days(130)],
                [p for p in new if p["hire_date"] >= self.today - days(130)],
            ),
            start=1,
        ):
            start = min((p["hire_date"] for p in cohort), default=self.today - days(130 * (3 - n)))
            add_class(
                f"GQ-{n}",
                f"{start.year}年新工人岗前安全培训（第{n}期）",
                "AQ-007",
                K.PRE_JOB,
                start,
                10,
                "JD",
                cohort,
                partial=False,
            )
        # Managers: initial and annual training.
        managers = [p for p in self.people if p["role"] in ("principal", "manager")]
        for ago in (2, 1, 0):
            start = self.today - days(ago * 365 + 70)
            add_class(
                f"GL-NX-{3 - ago}",
                f"{start.year}年安全生产管理人员再培训",
                "AQ-010",
                K.ANNUAL,
                start,
                2,
                MINE[0],
                [p for p in managers if p["appointed_on"] < start],
            )
        recent = [p for p in managers if p["appointed_on"] >= self.today - days(180)]
        if recent:
            add_class(
                "GL-CX-1",
                "安全生产管理人员初次培训",
                "AQ-009",
                K.PRE_JOB,
                self.today - days(50),
                6,
                MINE[0],
                recent,
                partial=False,
            )
        # Special-operation initial training (特种作业初训) for the two most recent cohorts.
        for key, people in sorted(self.special_cohorts.items()):
            operation, cohort = key.rsplit("-", 1)
            course = SPECIAL_INITIAL_COURSE.get(operation, "AQ-001")
            start, end = self.special_class_dates(operation, cohort)
            name = {c: n for c, n, _s in SPECIAL_OPERATIONS}[operation]
            add_class(
                f"TC-{operation}-{cohort}",
                f"{start.year}年{name}初训班",
                course,
                K.SPECIAL_INITIAL,
                start,
                (end - start).days + 1,
                "JD" if operation in ("MK-DQ", "MK-TS", "MK-JK") else "TF",
                people,
                partial=False,
            )
        # Certificate review training (复审培训), a class every half year, and one planned for the coming month.
        by_slot: dict[int, list[dict]] = {}
        person_of = {self.workers[p["employee_no"]]: p for p in self.people}
        for number, reviewed, _outcome in self.reviews:
            slot = (self.today - reviewed).days // 180
            if slot < 6:
                by_slot.setdefault(slot, []).append(person_of[self.worker_of_certificate[number]])
        for slot, people in sorted(by_slot.items()):
            start = self.today - days((slot + 1) * 180 + 10)
            add_class(
                f"FS-{slot + 1}", f"{start.year}年特种作业人员复审培训", "GL-005", K.REVIEW, start, 1, "TF", people
            )
        add_class("FS-0", "特种作业人员复审培训（计划）", "GL-005", K.REVIEW, self.today + days(20), 1, "TF", [])
        # Return to post (复岗) and job transfer (转岗).
        returned = [p for p in self.people if (a := self.away.get(p["employee_no"])) and a[1] is not None]
        add_class("FG-1", "复岗安全培训", "AQ-006", K.RETURN, self.today - days(25), 2, "TF", returned)
        transferred = [
            p for p in self.people if len(p["trades"]) > 1 and p["trades"][1][2] > self.today - days(4 * 365)
        ]
        add_class("ZG-1", "转岗培训", "AQ-001", K.TRANSFER, self.today - days(500), 5, "JD", transferred)
        # Skill upgrading (技能提升): the courses of the package for each worker's next rank.
        wanting: dict[str, list[dict]] = {}
        for p in self.people:
            if not p["trades"] or p["years"] == 0 or p["status"] == tr.Worker.Status.LEFT:
                continue
            trade = p["trades"][0][0]
            target = self.next_rank(p, trade)
            if target is None:
                continue
            for course, mandatory in self.package_lines[(trade, target)]:
                roll = self.rng("upskill", p["employee_no"], course).random()
                if roll < (0.7 if mandatory else 0.35) or p["role"] == "trainee":
                    wanting.setdefault(course, []).append(p)
        for course, people in sorted(wanting.items()):
            chunks = [people[i : i + 40] for i in range(0, len(people), 40)]
            for n, chunk in enumerate(chunks, start=1):
                start = self.today - days(60 + self.rng("class", course, n).randint(0, 900))
                chunk = [p for p in chunk if self.on_post(p, start)]
                add_class(
                    f"JN-{course}-{n}",
                    f"{self.course_titles[course]}（第{n}期）",
                    course,
                    K.UPSKILL,
                    start,
                    max(2, int(sum(self.course_hours[course]) // 8)),
                    "JD" if course.startswith("JD") else "TF",
                    chunk,
                )

        # The package courses of each rank the engine derives, in a class of the quarter half a year before the award.
        history: dict[tuple[str, dt.date], list[dict]] = {}
        for p, trade, rank, day in self.engine_awards:
            for course, mandatory in self.package_lines[(trade, rank)]:
                if mandatory or course == next((c for c, m in self.package_lines[(trade, rank)] if not m), None):
                    history.setdefault((course, _quarter_start(day - days(180))), []).append(p)
        for (course, start), people in sorted(history.items()):
            add_class(
                f"LS-{course}-{start:%Y%m}",
                f"{start.year}年{self.course_titles[course]}",
                course,
                K.UPSKILL,
                start,
                max(2, int(sum(self.course_hours[course]) // 8)),
                "JD" if course.startswith("JD") else "TF",
                people,
                partial=False,
            )
        self.classes = _by_code(sync(tr.TrainingClass, ("code",), classes))
        sync(
            tr.Attendance,
            ("training_class_id", "worker_id"),
            [
                {
                    "training_class_id": self.classes[code],
                    "worker_id": self.workers[p["employee_no"]],
                    "theory_hours": t,
                    "practical_hours": pr,
                    "remarks": remark,
                }
                for code, p, t, pr, remark in attendance
            ],
        )

    # Assessments ---------------------------------------------------------------------------------------

    def build_assessments(self) -> None:
        assessments: list[dict] = []
        results: list[tuple[str, dict, int, Decimal | None]] = []
        A = cert.Assessment.Kind

        def sit(code, name, kind, held_on, people, *, pass_mark, mean, subject, examined=False):
            assessments.append(
                {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "held_on": held_on,
                    "venue": "矿培训中心考场",
                    "pass_mark": Decimal(pass_mark),
                    "full_marks": Decimal("100"),
                    "course_id": None,
                    "trade_id": None,
                    "rank_id": None,
                    "special_operation_id": None,
                    **subject,
                }
            )
            self.examined[code] = examined
            failed = []
            for p in people:
                rng = self.rng("result", code, p["employee_no"])
                if rng.random() < 0.05:
                    score = None
                else:
                    score = Decimal(min(100, max(20, round(rng.gauss(mean, 10) * 2) / 2))).quantize(Decimal("0.1"))
                results.append((code, p, 1, score))
                if score is None or score < pass_mark:
                    failed.append(p)
            if failed:
                resit = f"{code}B"
                assessments.append(
                    {**assessments[-1], "code": resit, "name": f"{name}（补考）", "held_on": held_on + days(30)}
                )
                self.examined[resit] = examined
                for p in failed:
                    rng = self.rng("resit", code, p["employee_no"])
                    score = None if rng.random() < 0.1 else Decimal(min(100, max(0, round(rng.gauss(mean, 8)))))
                    results.append((resit, p, 2, score))

        self.examined: dict[str, bool] = {}
        # Skill-level appraisals (职业技能等级认定) per trade × target rank.
        candidates: dict[tuple[str, str], list[dict]] = {}
        for p in self.people:
            if not p["trades"] or p["years"] == 0 or p["status"] != tr.Worker.Status.ACTIVE:
                continue
            trade = p["trades"][0][0]
            target = self.next_rank(p, trade)
            if target and (p["role"] == "trainee" or self.rng("candidate", p["employee_no"]).random() < 0.6):
                candidates.setdefault((trade, target), []).append(p)
        for (trade, rank), people in sorted(candidates.items()):
            if len(people) < 2 and not any(p["role"] == "trainee" for p in people):
                continue
            held_on = self.today - days(self.rng("appraisal", trade, rank).randint(45, 600))
            name = f"{self.trade_info[trade][1]}{self.rank_names[rank]}"
            subject = {"trade_id": self.trades[trade], "rank_id": self.ranks[rank]}
            examined = self.trade_info[trade][3] == E
            sit(
                f"JD-{trade}-{rank}-T",
                f"{name}理论考试",
                A.THEORY,
                held_on,
                people,
                pass_mark=60,
                mean=73,
                subject=subject,
                examined=examined,
            )
            sit(
                f"JD-{trade}-{rank}-P",
                f"{name}技能考核",
                A.PRACTICAL,
                held_on + days(2),
                people,
                pass_mark=60,
                mean=76,
                subject=subject,
                examined=examined,
            )
        # Special-operation exams after each initial class: pass mark 80.
        for key, people in sorted(self.special_cohorts.items()):
            operation, cohort = key.rsplit("-", 1)
            _start, end = self.special_class_dates(operation, cohort)
            subject = {"special_operation_id": self.operations[operation]}
            name = {c: n for c, n, _s in SPECIAL_OPERATIONS}[operation]
            sit(
                f"TZ-{operation}-{cohort}-T",
                f"{name}理论考试",
                A.THEORY,
                end + days(3),
                people,
                pass_mark=80,
                mean=88,
                subject=subject,
                examined=operation == "MK-DQ",
            )
            sit(
                f"TZ-{operation}-{cohort}-P",
                f"{name}实操考试",
                A.PRACTICAL,
                end + days(5),
                people,
                pass_mark=80,
                mean=89,
                subject=subject,
                examined=operation == "MK-DQ",
            )

        # The skill-level appraisal before each rank the engine derives: the sitting of the quarter before the award.
        appraisals: dict[tuple[str, str, dt.date], list[dict]] = {}
        for p, trade, rank, day in self.engine_awards:
            appraisals.setdefault((trade, rank, _quarter_start(day - days(90)) + days(20)), []).append(p)
        for (trade, rank, held_on), people in sorted(appraisals.items()):
            name = f"{self.trade_info[trade][1]}{self.rank_names[rank]}"
            subject = {"trade_id": self.trades[trade], "rank_id": self.ranks[rank]}
            for kind, suffix, words, later in ((A.THEORY, "T", "理论考试", 0), (A.PRACTICAL, "P", "技能考核", 2)):
                code = f"LS-{trade}-{rank}-{held_on:%Y%m}-{suffix}"
                assessments.append(
                    {
                        "code": code,
                        "name": f"{held_on.year}年{name}{words}",
                        "kind": kind,
                        "held_on": held_on + days(later),
                        "venue": "矿培训中心考场",
                        "pass_mark": Decimal(60),
                        "full_marks": Decimal("100"),
                        "course_id": None,
                        "trade_id": None,
                        "rank_id": None,
                        "special_operation_id": None,
                        **subject,
                    }
                )
                self.examined[code] = False
                for p in people:
                    rng = self.rng("history-result", code, p["employee_no"])
                    results.append((code, p, 1, Decimal(min(100, max(61, round(rng.gauss(78, 8)))))))
        self.assessments = _by_code(sync(cert.Assessment, ("code",), assessments))
        held_on = {a["code"]: a["held_on"] for a in assessments}
        sync(
            cert.AssessmentResult,
            ("assessment_id", "worker_id", "attempt"),
            [
                {
                    "assessment_id": self.assessments[code],
                    "worker_id": self.workers[p["employee_no"]],
                    "attempt": attempt,
                    "score": score,
                    "absent": score is None,
                    "full_marks": Decimal("100"),
                    "remarks": "缺考" if score is None else "",
                    "recorded_at": _noon(held_on[code]),
                }
                for code, p, attempt, score in results
            ],
        )

    # Honours, mentoring, logins -----------------------------------------------------------------------

    def build_honours_and_mentoring(self) -> None:
        seniors = []
        for p in self.people:
            held = self.held_rank.get((p["employee_no"], p["trades"][0][0])) if p["trades"] else None
            if held and held[0] in ("L1", "L2", "L3"):
                seniors.append((held[0], held[1], p))
        seniors.sort(key=lambda item: (-LADDER.index(item[0]), item[2]["employee_no"]))
        rows = []
        for n, ((title, level, body, doc), (_rank, awarded, p)) in enumerate(
            zip(HONOURS, seniors, strict=False), start=1
        ):
            on = max(awarded, self.today - days(1500)) + days(self.rng("honour", n).randint(30, 300))
            on = min(on, self.today - days(10))
            rows.append(
                {
                    "worker_id": self.workers[p["employee_no"]],
                    "title": title,
                    "level": level,
                    "awarding_body": body,
                    "document_no": doc.format(y=on.year, n=10 + n * 7),
                    "awarded_on": on,
                    "remarks": "",
                }
            )
        sync(cert.Honour, ("worker_id", "title"), rows)

        mentorships = []
        for p in self.people:
            if p["years"] != 0 or p["underground_start"] is None:
                continue
            crew = [q for q in self.people if q["unit"] == p["unit"] and q["years"] >= 8 and q["status"] == "active"]
            if not crew:
                continue
            mentor = max(
                crew,
                key=lambda q: (
                    LADDER.index(self.held_rank.get((q["employee_no"], q["trades"][0][0]), ("L5", None))[0]),
                    q["employee_no"],
                ),
            )
            start = p["underground_start"]
            planned_end = start + days(122)
            signed = planned_end + days(self.rng("signoff", p["employee_no"]).randint(0, 12))
            mentorships.append(
                {
                    "apprentice_id": self.workers[p["employee_no"]],
                    "mentor_id": self.workers[mentor["employee_no"]],
                    "trade_id": self.trades[p["trades"][0][0]],
                    "start": start,
                    "planned_end": planned_end,
                    "signed_off_on": signed if signed < self.today else None,
                    "signed_off_by": mentor["name"] if signed < self.today else "",
                    "remarks": "",
                }
            )
        sync(cert.Mentorship, ("apprentice_id",), mentorships)

    def build_users(self) -> None:
        leader = next(p for p in self.people if p["unit"] == "ZC1-01" and p["role"] == "leader")
        trainee = next(p for p in self.people if p["role"] == "trainee")
        accounts = [
            # E-mail addresses so `send_reminders` has someone to write to in the demo.
            (
                "admin",
                None,
                {
                    "is_superuser": True,
                    "is_staff": True,
                    "email": "admin@demo.kuangjiang.invalid",
                    "first_name": "系统管理员",
                },
                None,
            ),
            ("hr", roles.HR, {"is_staff": True, "email": "hr@demo.kuangjiang.invalid", "first_name": "刘芳"}, None),
            ("officer", roles.OFFICER, {"is_staff": True, "first_name": "陈建国"}, None),
            ("assessor", roles.ASSESSOR, {"is_staff": True, "first_name": "张志强"}, None),
            ("leader", roles.LEADER, {"is_staff": False, "email": "leader@demo.kuangjiang.invalid"}, leader),
            ("trainee", roles.TRAINEE, {"is_staff": False}, trainee),
        ]
        users = {}
        for username, role, flags, person in accounts:
            user, created = User.objects.get_or_create(username=username, defaults=flags)
            if any(getattr(user, flag) != value for flag, value in flags.items()):
                User.objects.filter(pk=user.pk).update(**flags)
            if created or not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if role:
                user.groups.set([Group.objects.get(name=role)])
            if person:
                worker_id = self.workers[person["employee_no"]]
                tr.Worker.objects.filter(user=user).exclude(pk=worker_id).update(user=None, version=F("version") + 1)
                tr.Worker.objects.filter(pk=worker_id).exclude(user=user).update(user=user, version=F("version") + 1)
            users[username] = user
        sync(
            cert.Assessment.examiners.through,
            ("assessment_id", "user_id"),
            [
                {"assessment_id": self.assessments[code], "user_id": users["assessor"].pk}
                for code, examined in self.examined.items()
                if examined
            ],
        )

    def build_practical(self) -> None:
        """
        A practical sitting a week ahead with the demo assessor as examiner, six 综采维修电工 on its roster and the
        trade's 中级工 scoring scheme (实操评分表), so the assessor's tablet has something to score. Made once:
        a second run finds them and changes nothing.
        """
        from certifications.sittings.services import candidates_add, sitting_save

        assessor = User.objects.get(username="assessor")
        trade, rank = self.trades["ZWDG"], self.ranks["L4"]
        scheme = cert.ScoringScheme.objects.filter(name=DEMO_SCHEME, trade_id=trade, rank_id=rank).first()
        if scheme is None:
            scheme = cert.ScoringScheme.objects.create(
                name=DEMO_SCHEME,
                trade_id=trade,
                rank_id=rank,
                effective_from=dt.date(2024, 1, 1),
                time_limit_minutes=30,
            )
            for order, (name, content, points, criteria, per_mistake, per_minute, critical) in enumerate(
                DEMO_SCHEME_ITEMS, 1
            ):
                cert.ScoringItem.objects.create(
                    scheme=scheme,
                    order=order,
                    name=name,
                    content=content,
                    points=points,
                    criteria=criteria,
                    per_mistake=per_mistake,
                    per_minute_over=per_minute,
                    critical=critical,
                )
        sitting = cert.Sitting.objects.filter(code=DEMO_PRACTICAL_SITTING).first()
        if sitting is None:
            sitting = sitting_save(
                cert.Sitting(
                    code=DEMO_PRACTICAL_SITTING,
                    name="综采维修电工中级工实操考核",
                    trade_id=trade,
                    rank_id=rank,
                    practical_on=self.today + days(7),
                    venue="实操培训基地",
                ),
                examiners=[assessor],
                reason="demo mine",
            )
            candidates = (
                tr.WorkerTrade.objects.filter(trade_id=trade, worker__status=tr.Worker.Status.ACTIVE)
                .order_by("worker__employee_no")
                .values_list("worker_id", flat=True)[:6]
            )
            candidates_add(sitting=sitting, worker_ids=list(candidates))

    def build_exams(self) -> None:
        """
        The online theory exam (机考): a small bank for 综采维修电工 中级工, a paper template drawn from it by rules,
        a theory sitting today and an exam session open for two weeks with the demo trainee and five 综采维修电工 on
        its roster, so the trainee's "My exams" has one to take. Made once: a second run finds them.
        """
        from certifications.exams.bank import questions_create_many
        from certifications.exams.services import candidates_add as exam_candidates_add
        from certifications.sittings.services import candidates_add, sitting_save

        if cert.ExamSession.objects.filter(name=DEMO_EXAM_SESSION).exists():
            return
        trade, rank = tr.Trade.objects.get(pk=self.trades["ZWDG"]), tr.Rank.objects.get(pk=self.ranks["L4"])
        entries = [
            {"kind": "single", "stem": stem, "options": options, "answer": answer, "knowledge_point": point}
            for stem, options, answer, point in DEMO_SINGLE
        ]
        entries += [
            {"kind": "multiple", "stem": stem, "options": options, "answer": answer, "knowledge_point": point}
            for stem, options, answer, point in DEMO_MULTIPLE
        ]
        entries += [
            {"kind": "true_false", "stem": stem, "answer": answer, "knowledge_point": point}
            for stem, answer, point in DEMO_TRUE_FALSE
        ]
        for entry in entries:
            entry.update(trades=[trade], ranks=[rank], explanation="见《煤矿安全规程》及岗位作业规程。")
        questions_create_many(entries, reason="demo mine")
        template = cert.PaperTemplate.objects.create(
            name="综采维修电工中级工理论试卷", trade=trade, rank=rank, duration_minutes=60
        )
        for order, (kind, count, marks) in enumerate((("single", 10, 5), ("multiple", 5, 6), ("true_false", 10, 2)), 1):
            cert.PaperSection.objects.create(template=template, order=order, kind=kind, count=count, marks_each=marks)
        sitting = sitting_save(
            cert.Sitting(
                code=DEMO_EXAM_SITTING,
                name="综采维修电工中级工理论考试（机考）",
                trade=trade,
                rank=rank,
                theory_on=self.today,
                venue="培训中心机房",
            ),
            examiners=[User.objects.get(username="assessor")],
            reason="demo mine",
        )
        trainee = tr.Worker.objects.get(user__username="trainee")
        others = list(
            tr.WorkerTrade.objects.filter(trade=trade, worker__status=tr.Worker.Status.ACTIVE)
            .exclude(worker=trainee)
            .order_by("worker__employee_no")
            .values_list("worker_id", flat=True)[:5]
        )
        candidates_add(sitting=sitting, worker_ids=[trainee.pk, *others])
        opens = timezone.make_aware(dt.datetime.combine(self.today, dt.time(0, 0)))
        session = cert.ExamSession.objects.create(
            name=DEMO_EXAM_SESSION,
            template=template,
            assessment_id=sitting.theory_id,
            sitting=sitting,
            opens_at=opens,
            closes_at=opens + days(14),
        )
        exam_candidates_add(session=session, worker_ids=[trainee.pk, *others], reason="demo mine")

    @property
    def worker_of_certificate(self) -> dict[str, int]:
        if not hasattr(self, "_worker_of_certificate"):
            self._worker_of_certificate = dict(
                cert.Certificate.objects.filter(kind=cert.Certificate.Kind.SPECIAL_OPERATION).values_list(
                    "number", "worker_id"
                )
            )
        return self._worker_of_certificate


TRADE_INDEX = {row[0]: i for i, row in enumerate(TRADES, start=1)}
SO_INDEX = {row[0]: i for i, row in enumerate(SPECIAL_OPERATIONS, start=1)}


def _by_code(mapping: dict[tuple, int]) -> dict[str, int]:
    return {key[0]: pk for key, pk in mapping.items()}


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone(dt.timedelta(hours=8)))
