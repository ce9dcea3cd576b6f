"""08-visual-store (视觉营销与店铺装修): shot lists, image bank rules, main-image tests, homepage
modules, PC vs mobile, poster refresh tests.

Stage 5.8 视觉营销 (Table 1 tasks 5.1.1 拍摄规划, 5.1.2 拍摄器材准备, 5.1.3 图片和视频拍摄,
5.1.4 图片处理, 5.1.5 短视频处理, 5.1.6 图片和视频上传和管理; 3.1.4 产品视觉营销准备) and
stage 5.9 店铺装修 (5.2.1 准备店铺素材, 5.2.2 店铺首页装修, 5.2.3 产品详情页装修,
5.2.4 店铺装修优化) of T/CCPITCSC 111-2022. Both apply to B2C stores and to B2B stores (the
Alibaba.com minisite / showroom).

Notebooks: 08.01 Visual marketing (image and video bank of the listings, shot-list coverage,
naming and picture specification, re-shoot plan, main-image A/B tests) and 08.02 Store
decoration (PC vs mobile traffic, homepage module click-through, B2B minisite modules, poster
refresh test with a confidence interval).

The picture specification, naming convention and video length limit are the kit's synthetic
teaching values, defined in :mod:`cbec_sim.tables.visual` and repeated in the questions. The
statistics are standard published practice: the two-proportion z-test with a pooled standard
error for an A/B test of click-through rates, and the Wald 95 % confidence interval (z = 1.96,
unpooled standard error) for a difference of two conversion rates. Every ``reference`` computes
the expected answer its own way (loops and dicts), independently of the solution shown.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from cbec_sim.tables.visual import (
    IMAGE_MAX_KB,
    IMAGE_MIN_SIDE_PX,
    REQUIRED_ANGLES,
    VIDEO_MAX_SECONDS,
)
from graders.compare import Chart, Frame, IdSet, Integer, Rate
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import variant as _variant

MODULE = "08-visual-store"

UNIT = "visual"
ALPHA = 0.05  # significance level of the A/B test
Z95 = 1.96  # two-sided 95 % normal quantile


def _rows(df: pd.DataFrame, *cols: str):
    return zip(*(df[c].astype(object) if isinstance(df[c].dtype, pd.CategoricalDtype)
                 else df[c] for c in cols), strict=True)


# --- references: 08.01 -------------------------------------------------------------------------

def _spec_violations(w) -> list[str]:
    out = []
    for mid, mt, seq, wd, ht, kb in _rows(w.media_library, "media_id", "media_type", "seq",
                                          "width_px", "height_px", "file_size_kb"):
        if mt != "image":
            continue
        if min(wd, ht) < IMAGE_MIN_SIDE_PX or kb > IMAGE_MAX_KB or (seq == 1 and wd != ht):
            out.append(str(mid))
    return sorted(out)


def _bad_names(w) -> list[str]:
    out = []
    for mid, sku, ang, seq, mt, fn in _rows(w.media_library, "media_id", "sku", "angle", "seq",
                                            "media_type", "file_name"):
        ext = "mp4" if mt == "video" else "jpg"
        if fn != f"{sku}_{ang}_{int(seq):02d}.{ext}":
            out.append(str(mid))
    return sorted(out)


def _angles_by_product(w) -> dict[str, set[str]]:
    have: dict[str, set[str]] = defaultdict(set)
    for pid, mt, ang in _rows(w.media_library, "product_id", "media_type", "angle"):
        if mt == "image":
            have[str(pid)].add(str(ang))
    return have


def _missing_angles(w) -> list[str]:
    return sorted(p for p, a in _angles_by_product(w).items() if set(REQUIRED_ANGLES) - a)


def _n_shots(w) -> int:
    missing = sum(len(set(REQUIRED_ANGLES) - a) for a in _angles_by_product(w).values())
    small = set()
    for pid, mt, ang, wd, ht in _rows(w.media_library, "product_id", "media_type", "angle",
                                      "width_px", "height_px"):
        if mt == "image" and min(wd, ht) < IMAGE_MIN_SIDE_PX:
            small.add((str(pid), str(ang)))
    return missing + len(small)


def _ab_tests(w) -> pd.DataFrame:
    n: dict[tuple[str, str], int] = {}
    c: dict[tuple[str, str], int] = {}
    for tid, var, imp, clk in _rows(w.image_tests, "test_id", "variant", "impressions",
                                    "clicks"):
        n[(str(tid), str(var))] = int(imp)
        c[(str(tid), str(var))] = int(clk)
    rows = []
    for tid in sorted({t for t, _ in n}):
        na, nb, ca, cb = n[(tid, "A")], n[(tid, "B")], c[(tid, "A")], c[(tid, "B")]
        pa, pb = ca / na, cb / nb
        pool = (ca + cb) / (na + nb)
        z = (pb - pa) / math.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
        p = math.erfc(abs(z) / math.sqrt(2))
        winner = "none" if p >= ALPHA else ("B" if pb > pa else "A")
        rows.append((tid, pa, pb, z, p, winner))
    return pd.DataFrame(rows, columns=["test_id", "ctr_a", "ctr_b", "z", "p_value", "winner"])


def _video_work(w) -> list[str]:
    long = {str(lid) for lid, mt, d in _rows(w.media_library, "listing_id", "media_type",
                                              "duration_s")
            if mt == "video" and d > VIDEO_MAX_SECONDS}
    out = []
    for lid, st, hv in _rows(w.listings, "listing_id", "status", "has_video"):
        if st == "active" and (not hv or str(lid) in long):
            out.append(str(lid))
    return sorted(out)


# --- references: 08.02 -------------------------------------------------------------------------

def _models(w) -> dict[str, str]:
    return {str(s): str(m) for s, m in _rows(w.stores, "store_id", "model")}


def _mobile_share(w) -> float:
    model = _models(w)
    tot = mob = 0
    for sid, dev, s in _rows(w.traffic_daily, "store_id", "device", "sessions"):
        if model[str(sid)] == "B2C":
            tot += int(s)
            mob += int(s) if dev == "mobile" else 0
    return mob / tot


def _module_sums(w, model_wanted: str, by_device: bool):
    model = _models(w)
    acc: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for sid, dev, mod, v, c, o, i in _rows(w.store_modules, "store_id", "device", "module",
                                           "views", "clicks", "orders", "inquiries"):
        if model[str(sid)] != model_wanted:
            continue
        k = (str(dev), str(mod)) if by_device else (str(mod),)
        a = acc[k]
        a[0] += int(v)
        a[1] += int(c)
        a[2] += int(o)
        a[3] += int(i)
    return acc


def _module_ctr(w) -> pd.DataFrame:
    acc = _module_sums(w, "B2C", True)
    rows = [(d, m, a[1] / a[0], a[2] / a[1]) for (d, m), a in sorted(acc.items())]
    return pd.DataFrame(rows, columns=["device", "module", "ctr", "order_rate"])


def _mobile_chart(w) -> pd.Series:
    acc = _module_sums(w, "B2C", True)
    ctr = {m: a[1] / a[0] for (d, m), a in acc.items() if d == "mobile"}
    order = sorted(ctr, key=lambda m: (-ctr[m], m))
    return pd.Series([ctr[m] for m in order], index=order)


def _b2b_modules(w) -> pd.DataFrame:
    acc = _module_sums(w, "B2B", False)
    rows = [(m, a[0], a[1], a[3], a[1] / a[0], a[3] / a[1]) for (m,), a in sorted(acc.items())]
    return pd.DataFrame(rows, columns=["module", "views", "clicks", "inquiries", "ctr",
                                       "inquiry_rate"])


def _poster_test(w) -> pd.DataFrame:
    model = _models(w)
    s: dict[tuple[str, str], int] = {}
    k: dict[tuple[str, str], int] = {}
    for sid, poster, sess, o, i in _rows(w.banner_tests, "store_id", "poster", "sessions",
                                         "orders", "inquiries"):
        key = (str(sid), str(poster))
        s[key] = int(sess)
        k[key] = int(i) if model[str(sid)] == "B2B" else int(o)
    rows = []
    for sid in sorted({a for a, _ in s}):
        n0, n1 = s[(sid, "old")], s[(sid, "new")]
        p0, p1 = k[(sid, "old")] / n0, k[(sid, "new")] / n1
        se = math.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
        up = p1 - p0
        rows.append((sid, p0, p1, up, up - Z95 * se, up + Z95 * se, up - Z95 * se > 0))
    return pd.DataFrame(rows, columns=["store_id", "cvr_old", "cvr_new", "uplift", "ci_low",
                                       "ci_high", "roll_out"])


# --- solution texts ---------------------------------------------------------------------------

_SPEC_SOLUTION = """\
img = media_library[media_library.media_type == 'image']
too_small = img[['width_px', 'height_px']].min(axis=1) < 800      # 短边不足 800 像素
too_big = img.file_size_kb > 3072                                  # 超过 3 MB
main_not_square = (img.seq == 1) & (img.width_px != img.height_px)  # 主图不是正方形
spec_bad = img.loc[too_small | too_big | main_not_square, 'media_id'].tolist()"""

_NAME_SOLUTION = """\
m = media_library
ext = m.media_type.astype(str).map({'image': 'jpg', 'video': 'mp4'})
expected = (m.sku + '_' + m.angle.astype(str) + '_' + m.seq.astype(str).str.zfill(2)
            + '.' + ext)
bad_names = m.loc[m.file_name != expected, 'media_id'].tolist()"""

_MISSING_SOLUTION = """\
required = ['front', 'back', 'side', 'detail', 'function', 'packaging', 'accessories']
img = media_library[media_library.media_type == 'image']
have = img.groupby('product_id').angle.agg(lambda s: set(s.astype(str)))
missing_angle_products = [p for p, a in have.items() if set(required) - a]"""

_SHOTS_SOLUTION = """\
required = ['front', 'back', 'side', 'detail', 'function', 'packaging', 'accessories']
img = media_library[media_library.media_type == 'image']
have = img.groupby('product_id').angle.agg(lambda s: set(s.astype(str)))
n_missing = sum(len(set(required) - a) for a in have)                 # 缺的角度：补拍
small = img[img[['width_px', 'height_px']].min(axis=1) < 800]
n_reshoot = len(small[['product_id', 'angle']].drop_duplicates())    # 分辨率不够：重拍
n_shots = int(n_missing + n_reshoot)"""

_AB_SOLUTION = """\
import math

t = image_tests.pivot(index='test_id', columns='variant', values=['impressions', 'clicks'])
na, nb = t['impressions']['A'], t['impressions']['B']
ca, cb = t['clicks']['A'], t['clicks']['B']
ab = pd.DataFrame({'ctr_a': ca / na, 'ctr_b': cb / nb})
pool = (ca + cb) / (na + nb)                                          # 合并点击率
se = (pool * (1 - pool) * (1 / na + 1 / nb)) ** 0.5
ab['z'] = (ab.ctr_b - ab.ctr_a) / se
ab['p_value'] = [math.erfc(abs(z) / math.sqrt(2)) for z in ab.z]     # 双侧 p 值
ab['winner'] = 'none'
ab.loc[(ab.p_value < 0.05) & (ab.ctr_b > ab.ctr_a), 'winner'] = 'B'
ab.loc[(ab.p_value < 0.05) & (ab.ctr_b < ab.ctr_a), 'winner'] = 'A'
ab_result = ab.reset_index()"""

_VIDEO_SOLUTION = """\
vid = media_library[media_library.media_type == 'video']
too_long = set(vid.loc[vid.duration_s > 60, 'listing_id'])
act = listings[listings.status == 'active']
video_todo = act.loc[~act.has_video | act.listing_id.isin(too_long), 'listing_id'].tolist()"""

_MOBILE_SOLUTION = """\
b2c = stores.loc[stores.model == 'B2C', 'store_id']
td = traffic_daily[traffic_daily.store_id.isin(b2c)]
mobile_share = float(td.loc[td.device == 'mobile', 'sessions'].sum() / td.sessions.sum())"""

_MODULE_SOLUTION = """\
b2c = stores.loc[stores.model == 'B2C', 'store_id']
sm = store_modules[store_modules.store_id.isin(b2c)]
g = sm.groupby(['device', 'module'], observed=True)[['views', 'clicks', 'orders']].sum()
g['ctr'] = g.clicks / g.views
g['order_rate'] = g.orders / g.clicks
module_ctr = g.reset_index()"""

_CHART_SOLUTION = """\
import matplotlib.pyplot as plt
from graders.plotting import use_cjk_font
use_cjk_font()

b2c = stores.loc[stores.model == 'B2C', 'store_id']
mob = store_modules[store_modules.store_id.isin(b2c) & (store_modules.device == 'mobile')]
g = mob.groupby('module', observed=True)[['views', 'clicks']].sum()
ctr = (g.clicks / g.views).sort_index().sort_values(ascending=False, kind='stable')

fig, ax = plt.subplots(figsize=(8, 4))
ax.bar(ctr.index.astype(str), ctr.values)
ax.set_title('B2C 店铺移动端首页各模块点击率')
ax.set_xlabel('首页模块 module')
ax.set_ylabel('点击率 CTR（小数）')
ax.tick_params(axis='x', labelrotation=30)
chart = ax"""

_B2B_SOLUTION = """\
b2b = stores.loc[stores.model == 'B2B', 'store_id']
sm = store_modules[store_modules.store_id.isin(b2b)]
g = sm.groupby('module', observed=True)[['views', 'clicks', 'inquiries']].sum()
g['ctr'] = g.clicks / g.views
g['inquiry_rate'] = g.inquiries / g.clicks
b2b_modules = g.reset_index()"""

_POSTER_SOLUTION = """\
bt = banner_tests.merge(stores[['store_id', 'model']], on='store_id')
bt['conv'] = bt.orders.where(bt.model == 'B2C', bt.inquiries)   # B2B 看询盘
t = bt.pivot(index='store_id', columns='poster', values=['sessions', 'conv'])
n0, n1 = t['sessions']['old'], t['sessions']['new']
p0, p1 = t['conv']['old'] / n0, t['conv']['new'] / n1
se = (p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1) ** 0.5
poster = pd.DataFrame({'cvr_old': p0, 'cvr_new': p1, 'uplift': p1 - p0})
poster['ci_low'] = poster.uplift - 1.96 * se
poster['ci_high'] = poster.uplift + 1.96 * se
poster['roll_out'] = poster.ci_low > 0
poster = poster.reset_index()"""

_CHART_TAIL = ("\nax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
               "plt.close(fig)\nchart = ax")

_SPEC_Q = (f"图片规范（本课程的示例规则，合成的教学参数）：每张图片**短边不少于 "
           f"{IMAGE_MIN_SIDE_PX} 像素**（`width_px`、`height_px` 中较小的一个），"
           f"文件**不超过 {IMAGE_MAX_KB} KB**（3 MB，`file_size_kb`），"
           "**主图**（`seq` 为 1 的那张）必须是**正方形**（宽 = 高）。")

# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="08.01.spec_violations",
        title="不符合图片规范的图片",
        question=("图片上传前要先处理（image processing 图片处理，任务 5.1.4）：分辨率、"
                  "文件大小、构图都要符合平台要求。" + _SPEC_Q + "视频不按图片规范检查。"
                  "在图片银行 `media_library` 里找出所有**不符合规范的图片**，把它们的 "
                  "`media_id` 存进列表 `spec_bad`。B2C 和 B2B 店铺的图片都要查。"),
        stage="5.8", tasks=("5.1.4", "5.1.2"), unit=UNIT, difficulty=1, points=1,
        answer="spec_bad", kind="set", answer_cn="media_id 列表（顺序不限）",
        reference=_spec_violations,
        solution=_SPEC_SOLUTION,
        hints=("先筛选 `media_type == 'image'`，再写三个 True/False 条件，用 `|`（或）连起来。",
               "短边是 `img[['width_px', 'height_px']].min(axis=1)`；"
               "主图是否正方形只看 `seq == 1` 的行。"),
        mistakes=(
            Mistake("with_videos",
                    _variant(_SPEC_SOLUTION,
                             "img = media_library[media_library.media_type == 'image']",
                             "img = media_library"),
                    "视频也被你按图片规范检查了：视频文件本来就比 3 MB 大，"
                    "先筛选 `media_type == 'image'`。"),
            Mistake("no_square_rule",
                    _variant(_SPEC_SOLUTION, "too_small | too_big | main_not_square",
                             "too_small | too_big"),
                    "你漏了第三条规则：主图（seq 为 1）必须是正方形。"),
        ),
        compare=IdSet(),
        tables=("media_library",),
    ),
    Exercise(
        id="08.01.video_todo",
        title="需要处理短视频的在售商品",
        question=("短视频处理（short-video processing 短视频处理，任务 5.1.5）：在售商品"
                  "（`listings.status == 'active'`）都应有一段主视频，且主视频不超过 "
                  f"**{VIDEO_MAX_SECONDS} 秒**（本课程的示例规则），超长的要剪辑（剪辑 editing）。"
                  "视频在视频银行 `media_library` 里（`media_type == 'video'`，时长 "
                  "`duration_s`）。找出需要做视频工作的在售商品："
                  f"**没有视频**（`has_video` 为 False）或**视频超过 {VIDEO_MAX_SECONDS} 秒**，"
                  "把 `listing_id` 存进列表 `video_todo`。"),
        stage="5.8", tasks=("5.1.5", "5.1.6"), unit=UNIT, difficulty=1, points=1,
        answer="video_todo", kind="set", answer_cn="listing_id 列表（顺序不限）",
        reference=_video_work,
        solution=_VIDEO_SOLUTION,
        hints=("先从 `media_library` 里找出时长超过 60 秒的视频属于哪些 listing。",
               "在 `listings` 里筛选 `status == 'active'`，条件是 `~has_video` "
               "或 listing 在超长名单里（`isin`）。"),
        mistakes=(
            Mistake("long_only",
                    "vid = media_library[media_library.media_type == 'video']\n"
                    "act = set(listings.loc[listings.status == 'active', 'listing_id'])\n"
                    "video_todo = [l for l in vid.loc[vid.duration_s > 60, 'listing_id'] "
                    "if l in act]",
                    "你只找了超长的视频；还没有视频的在售商品也要拍摄制作。"),
            Mistake("all_statuses",
                    _variant(_VIDEO_SOLUTION, "act = listings[listings.status == 'active']",
                             "act = listings"),
                    "你把已下架（inactive）的商品也算进来了；题目只看在售商品。"),
        ),
        compare=IdSet(),
        tables=("media_library", "listings"),
    ),
    Exercise(
        id="08.01.bad_names",
        title="不符合命名规范的文件",
        question=("图片银行和视频银行（image bank 图片银行 / video bank 视频银行，任务 5.1.6）"
                  "里的文件要统一命名，才能按 SKU 和角度检索。本公司的命名规范（示例规则）："
                  "图片 `<sku>_<angle>_<seq 两位数>.jpg`，例如 `SNE-00001_front_01.jpg`；"
                  "视频 `<sku>_video_01.mp4`。其中 `sku`、`angle`、`seq` 都取该行的值，"
                  "大小写必须一致。找出 `media_library` 里 `file_name` **不符合**规范的文件，"
                  "把 `media_id` 存进列表 `bad_names`。"),
        stage="5.8", tasks=("5.1.6",), unit=UNIT, difficulty=2, points=2,
        answer="bad_names", kind="set", answer_cn="media_id 列表（顺序不限）",
        reference=_bad_names,
        solution=_NAME_SOLUTION,
        hints=("按规范为每一行拼出“应有的文件名”，再和 `file_name` 比较。",
               "两位数序号：`seq.astype(str).str.zfill(2)`；扩展名看 `media_type`："
               "图片 jpg，视频 mp4。`angle` 是分类列，先 `.astype(str)`。"),
        mistakes=(
            Mistake("shape_only",
                    "pat = r'^[A-Z]{3}-\\d{5}_[a-z]+_\\d{2}\\.(jpg|mp4)$'\n"
                    "bad_names = media_library.loc[~media_library.file_name.str.match(pat), "
                    "'media_id'].tolist()",
                    "你只检查了文件名的格式，没有核对名字里的角度是否就是这张图的 `angle`："
                    "按每一行的 sku、angle、seq 拼出应有的名字再比较。"),
            Mistake("ignore_case",
                    _variant(_NAME_SOLUTION, "m.file_name != expected",
                             "m.file_name.str.lower() != expected.str.lower()"),
                    "规范要求大小写一致：SKU 写成小写的文件在图片银行里按 SKU 检索不到。"),
        ),
        compare=IdSet(),
        tables=("media_library",),
    ),
    Exercise(
        id="08.01.missing_angles",
        title="拍摄角度不全的产品",
        question=("任务 5.1.3 要求从**正面、背面、侧面、细节、功能、包装、配件**等角度拍摄产品，"
                  "即 `angle` 中的 `front`、`back`、`side`、`detail`、`function`、`packaging`、"
                  "`accessories` 七个角度（`scene` 场景图可有可无）。同一产品在不同店铺的 listing "
                  "可以共用照片，所以按**产品**检查：把该产品所有 listing 的**图片**合在一起，"
                  "只要缺少七个角度中的任何一个，就说明拍摄清单（shot list 拍摄清单）没有完成。"
                  "找出这些产品，把 `product_id` 存进列表 `missing_angle_products`。"),
        stage="5.8", tasks=("5.1.3", "5.1.1", "3.1.4"), unit=UNIT, difficulty=2, points=2,
        answer="missing_angle_products", kind="set", answer_cn="product_id 列表（顺序不限）",
        reference=_missing_angles,
        solution=_MISSING_SOLUTION,
        hints=("只看图片：`media_type == 'image'`。按 `product_id` 分组，把 `angle` "
               "汇总成一个集合（`agg(lambda s: set(s.astype(str)))`）。",
               "`set(required) - 已有角度` 不为空，就是缺角度。"),
        mistakes=(
            Mistake("per_listing",
                    _variant(_MISSING_SOLUTION,
                             "have = img.groupby('product_id').angle.agg(lambda s: "
                             "set(s.astype(str)))\n"
                             "missing_angle_products = [p for p, a in have.items() "
                             "if set(required) - a]",
                             "have = img.groupby(['listing_id', 'product_id']).angle.agg("
                             "lambda s: set(s.astype(str)))\n"
                             "missing_angle_products = sorted({p for (l, p), a in have.items() "
                             "if set(required) - a})"),
                    "你按 listing 检查了：同一产品的不同 listing 共用照片，"
                    "拍摄清单按产品算，把它所有 listing 的图片合在一起看。"),
            Mistake("count_angles",
                    _variant(_MISSING_SOLUTION,
                             "missing_angle_products = [p for p, a in have.items() "
                             "if set(required) - a]",
                             "missing_angle_products = [p for p, a in have.items() "
                             "if len(a) < 7]"),
                    "你只数了角度的个数：场景图 `scene` 也被算了进去，"
                    "要逐个核对七个必需角度是否都有。"),
        ),
        compare=IdSet(),
        tables=("media_library",),
    ),
    Exercise(
        id="08.01.n_shots",
        title="补拍计划：一共要拍多少张",
        question=("拍摄规划（shooting plan 拍摄规划，任务 5.1.1）从缺口开始。要拍的照片有两类：\n\n"
                  "1. **补拍**：每个产品缺少的每个必需角度拍 1 张"
                  "（七个必需角度同上一题，按产品算）；\n"
                  f"2. **重拍**：短边不足 {IMAGE_MIN_SIDE_PX} 像素的图片说明相机或灯光不够"
                  "（任务 5.1.2 拍摄器材），修图救不回来，要按“产品 × 角度”重拍——同一产品同一角度"
                  "不论出现在几个 listing、几张图里，只拍 1 张。文件太大或主图不是正方形的，"
                  "用修图软件压缩或裁剪即可，不用重拍。\n\n"
                  "两类加起来一共要拍多少张？存进 `n_shots`（整数）。"),
        stage="5.8", tasks=("5.1.1", "5.1.2", "5.1.3"), unit=UNIT, difficulty=3, points=3,
        answer="n_shots", kind="integer", answer_cn="整数，张",
        reference=_n_shots,
        solution=_SHOTS_SOLUTION,
        hints=("补拍：沿用上一题按产品得到的角度集合，把每个产品缺的角度个数加起来。",
               "重拍：筛出短边 < 800 的图片，取 `['product_id', 'angle']` 两列 "
               "`drop_duplicates()` 后数行数。"),
        mistakes=(
            Mistake("no_reshoot",
                    _variant(_SHOTS_SOLUTION, "n_shots = int(n_missing + n_reshoot)",
                             "n_shots = int(n_missing)"),
                    "你只算了补拍；分辨率不够的图片也要重拍。"),
            Mistake("reshoot_all_spec",
                    _variant(_SHOTS_SOLUTION,
                             "small = img[img[['width_px', 'height_px']].min(axis=1) < 800]",
                             "small = img[(img[['width_px', 'height_px']].min(axis=1) < 800)"
                             " | (img.file_size_kb > 3072)"
                             " | ((img.seq == 1) & (img.width_px != img.height_px))]"),
                    "文件太大和主图不是正方形可以在修图时解决（压缩、裁剪），不用重拍。"),
            Mistake("per_listing",
                    _variant(_variant(_SHOTS_SOLUTION, "groupby('product_id')",
                                      "groupby('listing_id')"),
                             "small[['product_id', 'angle']]", "small[['listing_id', 'angle']]"),
                    "同一产品在不同店铺的 listing 共用照片：补拍和重拍都按产品 × 角度算。"),
        ),
        compare=Integer(),
        tables=("media_library",),
    ),
    Exercise(
        id="08.01.ab_tests",
        title="主图 A/B 测试：哪张主图点击率更高",
        question=("`image_tests` 记录了主图 A/B 测试（A/B test A/B 测试）：同一 listing 的搜索流量"
                  "随机一半看到现在的主图 A，一半看到新主图 B，时间相同。"
                  "对每个 `test_id` 计算：\n\n"
                  "- `ctr_a`、`ctr_b`：点击率（CTR 点击率）= clicks ÷ impressions；\n"
                  "- `z`：两比例 z 检验（two-proportion z-test）的统计量 = (ctr_b − ctr_a) ÷ SE，"
                  "SE = √[p̂(1 − p̂)(1/n_A + 1/n_B)]，p̂ 是两组合并的点击率 "
                  "(clicks_A + clicks_B) ÷ (impr_A + impr_B)，n 是曝光数；\n"
                  "- `p_value`：双侧 p 值 = erfc(|z| ÷ √2)（`math.erfc`）；\n"
                  "- `winner`：p 值 < 0.05 时点击率高的一方（`'A'` 或 `'B'`），否则 `'none'`"
                  "（差异不显著，不换图）。\n\n"
                  "结果存进 `ab_result`（DataFrame，每个测试一行，列 test_id, ctr_a, ctr_b, z, "
                  "p_value, winner）。"),
        stage="5.8", tasks=("3.1.4", "5.1.3", "5.1.4"), unit=UNIT, difficulty=3, points=3,
        answer="ab_result", kind="frame",
        answer_cn="DataFrame：test_id, ctr_a, ctr_b, z, p_value, winner",
        reference=_ab_tests,
        solution=_AB_SOLUTION,
        hints=("`image_tests.pivot(index='test_id', columns='variant', values=[...])` "
               "把 A、B 两行变成同一行的两列。",
               "合并点击率 p̂ 用两组的点击数之和除以曝光数之和；"
               "SE 用 p̂，不要用两组各自的点击率。",
               "`math.erfc(abs(z) / math.sqrt(2))` 是双侧 p 值；显著才有赢家。"),
        mistakes=(
            Mistake("no_test",
                    _variant(_AB_SOLUTION,
                             "ab['winner'] = 'none'\n"
                             "ab.loc[(ab.p_value < 0.05) & (ab.ctr_b > ab.ctr_a), 'winner'] = 'B'\n"
                             "ab.loc[(ab.p_value < 0.05) & (ab.ctr_b < ab.ctr_a), 'winner'] = 'A'",
                             "ab['winner'] = 'A'\n"
                             "ab.loc[ab.ctr_b > ab.ctr_a, 'winner'] = 'B'"),
                    "你只比较了点击率高低：差异不显著（p ≥ 0.05）时可能只是随机波动，"
                    "`winner` 应为 'none'。"),
            Mistake("unpooled_se",
                    _variant(_AB_SOLUTION, "se = (pool * (1 - pool) * (1 / na + 1 / nb)) ** 0.5",
                             "se = (ab.ctr_a * (1 - ab.ctr_a) / na"
                             " + ab.ctr_b * (1 - ab.ctr_b) / nb) ** 0.5"),
                    "检验“两组点击率相同”时，标准误要用两组合并的点击率 p̂（pooled）。"),
        ),
        compare=Frame(key=("test_id",), columns=("ctr_a", "ctr_b", "z", "p_value", "winner"),
                      rel=1e-4, abs=1e-6),
        tables=("image_tests",),
    ),
    Exercise(
        id="08.02.mobile_share",
        title="B2C 店铺移动端流量占比",
        question=("店铺装修要同时做 PC 端和移动端（任务 5.2.2、5.2.3；3.1.4 要求做 PC 和无线"
                  "详情页）。先看访客用什么设备：用 `traffic_daily` 计算 **B2C 店铺**"
                  "（`stores.model == 'B2C'`）全年访问量（sessions 访问量）中移动端 "
                  "`device == 'mobile'` 所占的比例，存进 `mobile_share`（小数）。"),
        stage="5.9", tasks=("5.2.3", "3.1.4"), unit=UNIT, difficulty=1, points=1,
        answer="mobile_share", kind="rate", answer_cn="比率（小数）",
        reference=_mobile_share,
        solution=_MOBILE_SOLUTION,
        hints=("先用 `stores` 找出 B2C 店铺的 `store_id`，再筛选 `traffic_daily`。",
               "比例 = 移动端 `sessions` 之和 ÷ 全部 `sessions` 之和（不是行数之比）。"),
        mistakes=(
            Mistake("all_stores",
                    "td = traffic_daily\n"
                    "mobile_share = float(td.loc[td.device == 'mobile', 'sessions'].sum() "
                    "/ td.sessions.sum())",
                    "题目只看 B2C 店铺；B2B 店铺的访客另算。"),
            Mistake("row_share",
                    "b2c = stores.loc[stores.model == 'B2C', 'store_id']\n"
                    "td = traffic_daily[traffic_daily.store_id.isin(b2c)]\n"
                    "mobile_share = float((td.device == 'mobile').mean())",
                    "你算的是行数占比；要按访问量 `sessions` 加总后再相除。"),
        ),
        compare=Rate(),
        tables=("traffic_daily", "stores"),
    ),
    Exercise(
        id="08.02.b2b_modules",
        title="B2B 旺铺首页各模块的点击率和询盘率",
        question=("B2B 店铺（Alibaba.com 旺铺 minisite）首页模块不同：公司介绍、产品展厅"
                  "（showroom 展厅）、工厂视频、证书等，买家点进去后发询盘（inquiry 询盘）。"
                  "用 `store_modules` 对 **B2B 店铺**按模块 `module` 汇总（PC 和移动端加在一起）"
                  "做一张表 `b2b_modules`（DataFrame，每个模块一行），列为 `views`、`clicks`、"
                  "`inquiries`（各自的合计）、`ctr` = clicks ÷ views、`inquiry_rate` = "
                  "inquiries ÷ clicks（小数）。"),
        stage="5.9", tasks=("5.2.2", "5.2.1"), unit=UNIT, difficulty=1, points=1,
        answer="b2b_modules", kind="frame",
        answer_cn="DataFrame：module, views, clicks, inquiries, ctr, inquiry_rate",
        reference=_b2b_modules,
        solution=_B2B_SOLUTION,
        hints=("筛选 B2B 店铺后 `groupby('module', observed=True)` 对三列求和。",
               "比率要在**加总之后**再除，不要对每行的比率取平均。"),
        mistakes=(
            Mistake("pc_only",
                    _variant(_B2B_SOLUTION, "sm = store_modules[store_modules.store_id.isin(b2b)]",
                             "sm = store_modules[store_modules.store_id.isin(b2b) "
                             "& (store_modules.device == 'pc')]"),
                    "题目要 PC 和移动端加在一起；你只算了 PC 端。"),
            Mistake("per_view",
                    _variant(_B2B_SOLUTION, "g['inquiry_rate'] = g.inquiries / g.clicks",
                             "g['inquiry_rate'] = g.inquiries / g.views"),
                    "询盘率的分母是点击数：点进模块的买家中有多少发了询盘。"),
        ),
        compare=Frame(key=("module",), columns=("views", "clicks", "inquiries", "ctr",
                                                "inquiry_rate"), rel=1e-6, abs=1e-9),
        tables=("store_modules", "stores"),
    ),
    Exercise(
        id="08.02.module_ctr",
        title="B2C 首页模块：PC 端与移动端的点击率和下单率",
        question=("任务 5.2.2 店铺首页装修：哪些模块最吸引人，PC 端和移动端（APP）一样吗？"
                  "用 `store_modules` 对 **B2C 店铺**按 `device` 和 `module` 汇总，做一张表 "
                  "`module_ctr`（DataFrame，每个设备 × 模块一行），列为 `ctr` = 点击数合计 ÷ "
                  "曝光数 `views` 合计，`order_rate` = 点击后的订单数 `orders` 合计 ÷ 点击数合计"
                  "（小数）。"),
        stage="5.9", tasks=("5.2.2", "5.2.3"), unit=UNIT, difficulty=2, points=2,
        answer="module_ctr", kind="frame", answer_cn="DataFrame：device, module, ctr, order_rate",
        reference=_module_ctr,
        solution=_MODULE_SOLUTION,
        hints=("`groupby(['device', 'module'], observed=True)` 后对 views、clicks、orders 求和。",
               "先加总再相除：每家店的点击率平均值会让小店和大店同样重要。"),
        mistakes=(
            Mistake("mean_of_ratios",
                    "b2c = stores.loc[stores.model == 'B2C', 'store_id']\n"
                    "sm = store_modules[store_modules.store_id.isin(b2c)].copy()\n"
                    "sm['ctr'] = sm.clicks / sm.views\n"
                    "sm['order_rate'] = sm.orders / sm.clicks\n"
                    "module_ctr = sm.groupby(['device', 'module'], observed=True)"
                    "[['ctr', 'order_rate']].mean().reset_index()",
                    "你对每家店的比率取了平均；要先把点击、曝光、订单加总再相除。"),
            Mistake("orders_per_view",
                    _variant(_MODULE_SOLUTION, "g['order_rate'] = g.orders / g.clicks",
                             "g['order_rate'] = g.orders / g.views"),
                    "下单率的分母是点击数：点了模块的访客中有多少下单。"),
        ),
        compare=Frame(key=("device", "module"), columns=("ctr", "order_rate"), rel=1e-6,
                      abs=1e-9),
        tables=("store_modules", "stores"),
    ),
    Exercise(
        id="08.02.mobile_chart",
        title="移动端首页模块点击率排序图",
        question=("移动端屏幕小，越靠上的位置越宝贵（任务 5.2.1 优化装修模块、5.2.2）。"
                  "画一张柱状图：**B2C 店铺、移动端**各首页模块的点击率"
                  "（点击数合计 ÷ 曝光数合计），"
                  "按点击率**从高到低**排列（相同时按模块名字母顺序），这就是建议的模块顺序。"
                  "图要有标题、横轴标签和纵轴标签（含单位）。把 Axes 存进 `chart`。"),
        stage="5.9", tasks=("5.2.2", "5.2.1"), unit=UNIT, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_mobile_chart,
        solution=_CHART_SOLUTION,
        hints=("筛选 B2C 店铺和 `device == 'mobile'`，按 `module` 对 views、clicks 求和再相除。",
               "`sort_index()` 再 `sort_values(ascending=False, kind='stable')`；"
               "`ax.bar(模块, 点击率)`，加标题和两个轴标签，`chart = ax`。"),
        mistakes=(
            Mistake("pc_device",
                    "import matplotlib.pyplot as plt\n"
                    "b2c = stores.loc[stores.model == 'B2C', 'store_id']\n"
                    "pc = store_modules[store_modules.store_id.isin(b2c) "
                    "& (store_modules.device == 'pc')]\n"
                    "g = pc.groupby('module', observed=True)[['views', 'clicks']].sum()\n"
                    "ctr = (g.clicks / g.views).sort_index().sort_values(ascending=False, "
                    "kind='stable')\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(ctr.index.astype(str), ctr.values)" + _CHART_TAIL,
                    "你画的是 PC 端；题目要移动端 `device == 'mobile'`。"),
            Mistake("alphabetical",
                    "import matplotlib.pyplot as plt\n"
                    "b2c = stores.loc[stores.model == 'B2C', 'store_id']\n"
                    "mob = store_modules[store_modules.store_id.isin(b2c) "
                    "& (store_modules.device == 'mobile')]\n"
                    "g = mob.groupby('module', observed=True)[['views', 'clicks']].sum()\n"
                    "ctr = (g.clicks / g.views).sort_index()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(ctr.index.astype(str), ctr.values)" + _CHART_TAIL,
                    "柱子要按点击率从高到低排，才能直接读出建议的模块顺序。"),
        ),
        compare=Chart(kind="bar"),
        tables=("store_modules", "stores"),
    ),
    Exercise(
        id="08.02.poster_test",
        title="新海报值得换上吗：转化率提升和 95% 置信区间",
        question=("任务 5.2.4 店铺装修优化要求及时更新广告页和海报（poster 海报）。`banner_tests` "
                  "里每家店把旧海报 `old` 和新海报 `new` 随机展示给一半访客。转化：B2C 店铺看 "
                  "`orders`，B2B 店铺看询盘 `inquiries`。对每个店铺计算：\n\n"
                  "- `cvr_old`、`cvr_new`：转化率（CVR 转化率）= 转化数 ÷ `sessions`；\n"
                  "- `uplift` = cvr_new − cvr_old；\n"
                  "- `ci_low`、`ci_high`：uplift 的 95% 置信区间（confidence interval 置信区间）"
                  "= uplift ∓ 1.96 × SE，SE = √[p_old(1−p_old)/n_old + p_new(1−p_new)/n_new]；\n"
                  "- `roll_out`：`ci_low > 0` 时为 True（新海报确实更好，全量换上）。\n\n"
                  "结果存进 `poster`（DataFrame，每个店铺一行，列 store_id, cvr_old, cvr_new, "
                  "uplift, ci_low, ci_high, roll_out）。"),
        stage="5.9", tasks=("5.2.4", "5.2.1", "3.1.4"), unit=UNIT, difficulty=3, points=3,
        answer="poster", kind="frame",
        answer_cn="DataFrame：store_id, cvr_old, cvr_new, uplift, ci_low, ci_high, roll_out",
        reference=_poster_test,
        solution=_POSTER_SOLUTION,
        hints=("先把 `stores.model` 合并进来，B2C 用 orders、B2B 用 inquiries 作为转化数。",
               "`pivot(index='store_id', columns='poster', values=[...])` 让新旧两行变成同一行。",
               "SE 用两组各自的转化率；区间下限大于 0 才说明新海报显著更好。"),
        mistakes=(
            Mistake("orders_only",
                    _variant(_POSTER_SOLUTION,
                             "bt['conv'] = bt.orders.where(bt.model == 'B2C', bt.inquiries)",
                             "bt['conv'] = bt.orders"),
                    "B2B 店铺没有线上订单，转化看询盘 `inquiries`。"),
            Mistake("z_90",
                    _variant(_variant(_POSTER_SOLUTION, "poster.uplift - 1.96 * se",
                                      "poster.uplift - 1.645 * se"),
                             "poster.uplift + 1.96 * se", "poster.uplift + 1.645 * se"),
                    "1.645 对应的是 90% 置信区间；95% 的双侧区间用 1.96。"),
        ),
        compare=Frame(key=("store_id",), columns=("cvr_old", "cvr_new", "uplift", "ci_low",
                                                  "ci_high", "roll_out"), rel=1e-6, abs=1e-9),
        tables=("banner_tests", "stores"),
    ),
)
