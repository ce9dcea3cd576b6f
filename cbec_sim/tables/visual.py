"""Stage ``visual``: tables for stages 5.8–5.9 (visual marketing, store decoration).

- ``media_library`` is the store's image bank and video bank (图片银行 / 视频银行, Table 1
  task 5.1.6): one row per picture in a listing's gallery (exactly ``listings.image_count``
  pictures, the first being the main image, white-background as ``listings.main_image_white_bg``
  says) and one row per main video of listings with ``listings.has_video``. Each picture shows
  one shooting angle of the product (5.1.3: front, back, side, detail, function, packaging,
  accessories, or a scene picture). File names follow the kit's naming convention
  :data:`NAME_PATTERN` (``<sku>_<angle>_<seq two digits>.jpg``, videos ``<sku>_video_01.mp4``);
  a few files break it, and a few pictures break the picture specification
  (:data:`IMAGE_MIN_SIDE_PX`, :data:`IMAGE_MAX_KB`, square main image). Both kinds are planted
  and labelled (``image_name_violation``, ``image_spec_violation``).
- ``image_tests`` is the main-image A/B test report (主图测试): for some listings the store showed
  the current main image (variant ``A``) and a new one (``B``) to random halves of the search
  traffic for two weeks and counted impressions and clicks of each.
- ``store_modules`` is the homepage decoration report (店铺首页装修, 5.2.2): for each store, device
  (PC, mobile app/web) and homepage module (banner, coupon, category navigation, …), the
  module's views, clicks and the orders (B2C) or inquiries (B2B minisite) after a click, over
  the whole period. Homepage visits are a share of the store's sessions in ``traffic_daily``.
- ``banner_tests`` is the poster refresh test (5.2.4): each store ran its old and a new homepage
  poster (海报) to random halves of its visitors; sessions and orders (B2C) or inquiries (B2B).

All specifications here (sizes, durations, module lists) are synthetic teaching values of the
kit, in line with common marketplace image guidance, not any platform's official figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import const_categorical, fast_ids
from cbec_sim.tables.labels import anomaly_rows

#: Shooting angles of a product picture (5.1.3); ``scene`` is optional, the rest are required.
ANGLES = ("front", "back", "side", "detail", "function", "packaging", "accessories", "scene")
REQUIRED_ANGLES = ANGLES[:7]
MEDIA_TYPES = ("image", "video")
#: Naming convention of the image bank (synthetic kit rule): ``SKU_angle_seq.ext``.
NAME_PATTERN = r"^{sku}_{angle}_{seq:02d}\.(jpg|mp4)$"
IMAGE_MIN_SIDE_PX = 800  # shortest side of any picture (synthetic teaching value)
IMAGE_MAX_KB = 3072  # largest picture file, 3 MB (synthetic teaching value)
VIDEO_MAX_SECONDS = 60  # longest main video before it must be cut (synthetic teaching value)
TEST_DAYS = 14  # length of an A/B test window
DEVICES = ("mobile", "pc")
B2C_MODULES = ("banner", "coupon", "category_nav", "hot_products", "new_arrivals", "video",
               "brand_story")
B2B_MODULES = ("banner", "company_profile", "product_showroom", "category_nav",
               "factory_video", "certificates", "hot_products")
MODULES = tuple(sorted(set(B2C_MODULES) | set(B2B_MODULES)))
STYLES = ("infographic", "lifestyle", "model", "white_bg")
VARIANTS = ("A", "B")
POSTERS = ("old", "new")

MEDIA_LIBRARY = register(TableSpec(
    name="media_library",
    grain="one picture or video file of a listing in the store's image / video bank",
    description="Image bank and video bank (图片银行 / 视频银行, task 5.1.6) of every listing: "
                "`listings.image_count` pictures per listing (`seq` 1 is the main image) and "
                "one main video when `listings.has_video`. Kit conventions (synthetic): file "
                "name `<sku>_<angle>_<seq two digits>.jpg` (videos `<sku>_video_01.mp4`); "
                "pictures at least `IMAGE_MIN_SIDE_PX` = 800 px on the shorter side and at "
                "most `IMAGE_MAX_KB` = 3072 KB; the main image square; main videos at most "
                "`VIDEO_MAX_SECONDS` = 60 s (see `cbec_sim.tables.visual`).",
    columns=(
        Column("media_id", "str", "file id in the bank", unique=True),
        Column("listing_id", "str", "listing whose gallery holds the file",
               references="listings.listing_id"),
        Column("store_id", "str", "store of the listing", references="stores.store_id"),
        Column("product_id", "str", "product shown", references="products.product_id"),
        Column("sku", "str", "seller SKU of the product (as `products.sku`)"),
        Column("media_type", "category", "picture or video", values=MEDIA_TYPES),
        Column("seq", "int", "position in the listing's gallery (1 = main image; 1 for the "
               "video)", ge=1),
        Column("angle", "category", "shooting angle shown (5.1.3); `video` for videos",
               values=(*ANGLES, "video")),
        Column("file_name", "str", "file name in the bank"),
        Column("width_px", "int", "width in pixels", ge=1),
        Column("height_px", "int", "height in pixels", ge=1),
        Column("file_size_kb", "float", "file size", unit="KB", ge=0),
        Column("duration_s", "float", "video length (empty for pictures)", unit="s",
               nullable=True, ge=0),
        Column("white_background", "bool", "picture on a pure white background (False for "
               "videos)"),
        Column("has_alt_text", "bool", "an ALT text (image description) is filled in"),
    ),
    checks=("pictures per listing = listings.image_count",
            "main picture white_background = listings.main_image_white_bg",
            "one video per listing with has_video"),
))

IMAGE_TESTS = register(TableSpec(
    name="image_tests",
    grain="one main-image A/B test × variant",
    description="Main-image A/B tests (主图测试): the current main image (`A`) and a new one "
                "(`B`) were each shown to a random half of the listing's search traffic over "
                "the same 14-day window; impressions and clicks per variant.",
    columns=(
        Column("test_id", "str", "test id"),
        Column("listing_id", "str", "listing tested", references="listings.listing_id"),
        Column("store_id", "str", "store of the listing", references="stores.store_id"),
        Column("variant", "category", "`A` current main image, `B` new main image",
               values=VARIANTS),
        Column("image_style", "category", "style of the variant's main image", values=STYLES),
        Column("start_date", "date", "first day of the test (market-local)"),
        Column("end_date", "date", "last day of the test (market-local)"),
        Column("impressions", "int", "times the listing was shown with this main image",
               ge=0),
        Column("clicks", "int", "clicks to the detail page from those impressions", ge=0),
    ),
    checks=("clicks ≤ impressions", "two rows (A, B) per test_id"),
))

STORE_MODULES = register(TableSpec(
    name="store_modules",
    grain="one store × device × homepage module",
    description="Homepage decoration report (task 5.2.2) over the whole period: how often "
                "each homepage module was seen, clicked, and followed by an order (B2C "
                "stores) or an inquiry (B2B minisite, Alibaba.com) within the same visit. "
                "`position` is the module's place from the top of the page on that device.",
    columns=(
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("device", "category", "visitor device", values=DEVICES),
        Column("module", "category", "homepage module", values=MODULES),
        Column("position", "int", "place on the page from the top (1 = first screen)",
               ge=1),
        Column("views", "int", "homepage visits in which the module was shown on screen",
               ge=0),
        Column("clicks", "int", "clicks on the module", ge=0),
        Column("orders", "int", "orders placed after a click on the module (B2C; 0 for B2B)",
               ge=0),
        Column("inquiries", "int", "inquiries sent after a click on the module (B2B; 0 for "
               "B2C)", ge=0),
    ),
    checks=("clicks ≤ views", "orders + inquiries ≤ clicks"),
))

BANNER_TESTS = register(TableSpec(
    name="banner_tests",
    grain="one store × poster variant (old, new)",
    description="Homepage poster refresh tests (海报, task 5.2.4): each store showed its old "
                "poster and a new one to random halves of its homepage visitors over the same "
                "window; sessions, and orders (B2C) or inquiries (B2B) in those sessions.",
    columns=(
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("poster", "category", "`old` or `new` poster", values=POSTERS),
        Column("start_date", "date", "first day of the test (market-local)"),
        Column("end_date", "date", "last day of the test (market-local)"),
        Column("sessions", "int", "homepage sessions that saw the poster", ge=0),
        Column("orders", "int", "orders in those sessions (B2C; 0 for B2B)", ge=0),
        Column("inquiries", "int", "inquiries in those sessions (B2B; 0 for B2C)", ge=0),
    ),
    checks=("orders + inquiries ≤ sessions",),
))


def _gather(col: pd.Series, idx: np.ndarray) -> np.ndarray:
    """``col[idx]`` as a plain object array (the table is conformed to ``str`` afterwards)."""
    return col.to_numpy(object)[idx]


def file_name(sku, angle, seq, video) -> np.ndarray:
    """File names by the kit's convention, ``<sku>_<angle>_<seq:02d>.jpg`` (``.mp4`` videos)."""
    ext = np.where(np.asarray(video, bool), ".mp4", ".jpg")
    seq2 = np.char.zfill(np.asarray(seq).astype(str), 2)
    return (np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(
        np.asarray(sku, str), "_"), np.asarray(angle, str)), "_"), seq2), ext)).astype(object)


def _gallery_angles(rng: np.random.Generator, n_img: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """Angle index per (listing, seq) as an (n × 9) matrix: front first, then a random order
    of the other angles (``gap`` columns, a product's never-shot angles, sorted last), then
    repeats of ``detail``; -1 past ``n_img``."""
    n = len(n_img)
    key = rng.random((n, len(ANGLES) - 1)) + gap[:, 1:] * 2.0  # never-shot angles last
    order = np.argsort(key, axis=1) + 1
    shot = ~np.take_along_axis(gap[:, 1:], order - 1, axis=1)
    order = np.where(shot, order, ANGLES.index("detail"))
    ang = np.concatenate([np.zeros((n, 1), np.int64), order,
                          np.full((n, 1), ANGLES.index("detail"))], axis=1)
    return np.where(np.arange(9)[None, :] < n_img[:, None], ang, -1)


def _media(rng: np.random.Generator, ctx: Context) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    li, pr = ctx.tables["listings"], ctx.tables["products"]
    p_pos = pd.Index(pr["product_id"]).get_indexer(li["product_id"])
    sku_l = pr["sku"].to_numpy(object)[p_pos]
    # products with 1–2 required angles never shot (planted shot-list gaps, ~15 %)
    gap_p = np.zeros((len(pr), len(ANGLES)), bool)
    has_gap = rng.random(len(pr)) < 0.15
    miss = rng.integers(1, len(REQUIRED_ANGLES), (len(pr), 2))
    gap_p[np.flatnonzero(has_gap), miss[has_gap, 0]] = True
    two = has_gap & (rng.random(len(pr)) < 0.4)
    gap_p[np.flatnonzero(two), miss[two, 1]] = True
    n_img = li["image_count"].to_numpy(np.int64)
    ang = _gallery_angles(rng, n_img, gap_p[p_pos])
    rows, seqm = np.nonzero(ang >= 0)
    angle = ang[rows, seqm]
    seq = seqm + 1
    n_i = len(rows)
    # sizes: square main images, 1:1 or 4:3 gallery pictures, JPEG-like file sizes
    side = rng.choice([1000, 1200, 1500, 1600, 2000], n_i, p=[0.2, 0.2, 0.3, 0.15, 0.15])
    wide = (seq > 1) & (side >= 1200) & (rng.random(n_i) < 0.3)
    width = side.copy()
    height = np.where(wide, side * 3 // 4, side)
    size_kb = np.round(np.minimum(width * height / 1e6 * 260 * rng.lognormal(0.0, 0.35, n_i),
                                  IMAGE_MAX_KB - 200), 1)
    white = np.where(seq == 1, li["main_image_white_bg"].to_numpy(bool)[rows],
                     (angle != ANGLES.index("scene")) & (rng.random(n_i) < 0.5))
    alt = rng.random(n_i) < 0.8
    # planted spec violations: too small, too large a file (1.5 % each), non-square main (5 %)
    u = rng.random(n_i)
    spec_kind = np.select([u < 0.015, u < 0.03, (u < 0.08) & (seq == 1)], [0, 1, 2], -1)
    small = spec_kind == 0
    width = np.where(small, 640, width)
    height = np.where(small, np.where(wide, 480, 640), height)
    size_kb = np.where(small, np.round(size_kb * 0.3, 1), size_kb)
    size_kb = np.where(spec_kind == 1, np.round(rng.uniform(3300, 6500, n_i), 1), size_kb)
    height = np.where(spec_kind == 2, width * 3 // 4, height)
    # videos
    has_v = np.flatnonzero(li["has_video"].to_numpy(bool))
    n_v = len(has_v)
    dur = np.round(rng.lognormal(np.log(35.0), 0.45, n_v), 1)
    v_size = np.round(dur * rng.uniform(600, 1400, n_v), 1)
    # file names, then planted naming violations (~5 %)
    all_rows = np.concatenate([rows, has_v])
    is_v = np.r_[np.zeros(n_i, bool), np.ones(n_v, bool)]
    ang_code = np.r_[angle, np.full(n_v, len(ANGLES))]
    ang_txt = np.asarray((*ANGLES, "video"))[ang_code]
    seq_all = np.r_[seq, np.ones(n_v, np.int64)]
    sku_all = sku_l[all_rows]
    names = file_name(sku_all.astype(str), ang_txt, seq_all, is_v)
    n = n_i + n_v
    bad = np.where(rng.random(n) < 0.05, rng.integers(0, 4, n), -1)
    bad = np.where((bad == 3) & is_v, -1, bad)  # videos have a single, unnumbered slot
    cam = rng.integers(1000, 9999, n)
    for i in np.flatnonzero(bad >= 0):  # a few dozen files
        ext = ".mp4" if is_v[i] else ".jpg"
        sku, ang, sq = sku_all[i], ang_txt[i], seq_all[i]
        names[i] = (f"IMG_{cam[i]}{ext}", names[i].lower(),
                    f"{sku}_{ANGLES[(ang_code[i] + 1) % 7]}_{sq:02d}{ext}",
                    f"{sku}_{ang}_{sq}{ext}")[bad[i]]
    order = np.lexsort((is_v, seq_all, all_rows))
    rows_o = all_rows[order]
    cols = {
        "media_id": fast_ids("M", n, width=6),
        "listing_id": _gather(li["listing_id"], rows_o),
        "store_id": _gather(li["store_id"], rows_o),
        "product_id": _gather(li["product_id"], rows_o),
        "sku": _gather(pr["sku"], p_pos[rows_o]),
        "media_type": const_categorical(is_v[order].astype(np.int8), MEDIA_TYPES),
        "seq": seq_all[order],
        "angle": const_categorical(ang_code[order], (*ANGLES, "video")),
        "file_name": names[order],
        "width_px": np.r_[width, np.full(n_v, 1920)][order],
        "height_px": np.r_[height, np.full(n_v, 1080)][order],
        "file_size_kb": np.r_[size_kb, v_size][order],
        "duration_s": np.r_[np.full(n_i, np.nan), dur][order],
        "white_background": np.r_[white, np.zeros(n_v, bool)][order],
        "has_alt_text": np.r_[alt, rng.random(n_v) < 0.6][order],
    }
    df = pd.DataFrame(cols)
    bad_o, spec_o = bad[order], np.r_[spec_kind, np.full(n_v, -1)][order]
    stores = li["store_id"].to_numpy(object)[rows_o]
    kinds = np.asarray(["camera_name", "lower_case", "wrong_angle", "unpadded_seq"], object)
    specs = np.asarray(["too_small", "too_large", "main_not_square"], object)
    nb, ns = np.flatnonzero(bad_o >= 0), np.flatnonzero(spec_o >= 0)
    labels = [anomaly_rows("image_name_violation", "media_library",
                           [f"M{i + 1:06d}" for i in nb], store_id=stores[nb],
                           detail=kinds[bad_o[nb]]),
              anomaly_rows("image_spec_violation", "media_library",
                           [f"M{i + 1:06d}" for i in ns], store_id=stores[ns],
                           detail=specs[spec_o[ns]])]
    return df, labels


def _image_tests(rng: np.random.Generator, ctx: Context) -> pd.DataFrame:
    li, ls = ctx.tables["listings"], ctx.tables["listing_stats"]
    codes, uniq = pd.factorize(ls["listing_id"])
    l_pos = pd.Index(li["listing_id"]).get_indexer(np.asarray(uniq, object))[codes]
    imp_all = np.bincount(l_pos, ls["impressions"].to_numpy(float), minlength=len(li))
    clk_all = np.bincount(l_pos, ls["clicks"].to_numpy(float), minlength=len(li))
    act = np.flatnonzero(li["status"].astype(str).to_numpy() == "active")
    top = act[np.argsort(-imp_all[act], kind="stable")[:max(4, min(16, len(act) // 12))]]
    k = len(top)
    ctr0 = np.clip((clk_all[top] + 1) / (imp_all[top] + 50), 0.005, 0.2)
    total = np.round(rng.lognormal(np.log(imp_all[top] / 26 + 3000), 0.3)).astype(np.int64)
    half = rng.binomial(total, 0.5)  # random split of the traffic
    n_imp = np.column_stack([half, total - half])
    # relative CTR change of B: a clear win, a small not-significant gain, others drawn
    lift = rng.choice([-0.2, -0.05, 0.0, 0.1, 0.3], k)
    lift[0], lift[1] = 0.45, 0.03
    p = np.column_stack([ctr0, np.clip(ctr0 * (1 + lift), 0.001, 0.5)])
    clicks = rng.binomial(n_imp, p)
    start = ctx.start + pd.to_timedelta(rng.integers(0, max(ctx.n_days - TEST_DAYS, 1), k),
                                        unit="D")
    style_a = np.where(li["main_image_white_bg"].to_numpy(bool)[top],
                       STYLES.index("white_bg"), STYLES.index("lifestyle"))
    style_b = (style_a + rng.integers(1, len(STYLES), k)) % len(STYLES)
    return pd.DataFrame({
        "test_id": np.repeat([f"IT{i:03d}" for i in range(1, k + 1)], 2),
        "listing_id": _gather(li["listing_id"], np.repeat(top, 2)),
        "store_id": _gather(li["store_id"], np.repeat(top, 2)),
        "variant": const_categorical(np.tile([0, 1], k), VARIANTS),
        "image_style": const_categorical(np.column_stack([style_a, style_b]).ravel(), STYLES),
        "start_date": np.repeat(start.to_numpy(), 2),
        "end_date": np.repeat((start + pd.Timedelta(days=TEST_DAYS - 1)).to_numpy(), 2),
        "impressions": n_imp.ravel(),
        "clicks": clicks.ravel().astype(np.int64),
    })


def _sessions_by_store_device(ctx: Context, store_ids: np.ndarray) -> np.ndarray:
    """Sessions of ``traffic_daily`` per store (rows) and device (columns, :data:`DEVICES`)."""
    td = ctx.tables["traffic_daily"]
    codes, uniq = pd.factorize(td["store_id"])
    s_pos = pd.Index(store_ids).get_indexer(np.asarray(uniq, object))[codes]
    dev = td["device"]
    d_pos = (pd.Index(DEVICES).get_indexer(dev.cat.categories)[dev.cat.codes.to_numpy()]
             if isinstance(dev.dtype, pd.CategoricalDtype)
             else pd.Index(DEVICES).get_indexer(dev))
    flat = np.bincount(s_pos * len(DEVICES) + d_pos, weights=td["sessions"].to_numpy(float),
                       minlength=len(store_ids) * len(DEVICES))
    return flat.reshape(len(store_ids), len(DEVICES))


#: Base click-through rate of a module when seen (synthetic), and orders (or inquiries) per click.
MODULE_CTR = {"banner": 0.09, "coupon": 0.12, "category_nav": 0.10, "hot_products": 0.14,
              "new_arrivals": 0.07, "video": 0.04, "brand_story": 0.02,
              "company_profile": 0.05, "product_showroom": 0.13, "factory_video": 0.04,
              "certificates": 0.03}
MODULE_CVR = {"banner": 0.04, "coupon": 0.09, "category_nav": 0.05, "hot_products": 0.07,
              "new_arrivals": 0.05, "video": 0.06, "brand_story": 0.03,
              "company_profile": 0.06, "product_showroom": 0.08, "factory_video": 0.10,
              "certificates": 0.07}


def _store_modules(rng: np.random.Generator, ctx: Context, sess: np.ndarray) -> pd.DataFrame:
    st = ctx.tables["stores"]
    b2b = st["model"].astype(str).to_numpy() == "B2B"
    n_s, n_m = len(st), len(B2C_MODULES)
    mods = np.where(b2b[:, None], [MODULES.index(m) for m in B2B_MODULES],
                    [MODULES.index(m) for m in B2C_MODULES])
    names = np.asarray(MODULES)[mods]
    ctr = np.vectorize(MODULE_CTR.__getitem__)(names)
    cvr = np.vectorize(MODULE_CVR.__getitem__)(names)
    parts = []
    for d, dev in enumerate(DEVICES):  # two devices
        key = np.where(names == "banner", -1.0, rng.random((n_s, n_m)))  # banner on top
        pos = np.argsort(np.argsort(key, axis=1), axis=1) + 1
        reach = (0.78 if dev == "mobile" else 0.88) ** (pos - 1)
        home = sess[:, d] * rng.uniform(0.3, 0.5, n_s)
        views = rng.poisson(home[:, None] * reach)
        dev_f = 1.15 if dev == "mobile" else 0.9
        c = np.clip(ctr * dev_f * rng.lognormal(0.0, 0.2, (n_s, n_m)), 0.0, 0.6)
        clicks = rng.binomial(views, c)
        conv = rng.binomial(clicks, np.clip(cvr * rng.lognormal(0.0, 0.2, (n_s, n_m)), 0, 1))
        parts.append((pos, views, clicks, conv))
    # rows: store, then device, then position from the top
    pos, views, clicks, conv = (np.stack([p[i] for p in parts], axis=1) for i in range(4))
    order = np.argsort(pos, axis=2, kind="stable")
    pos, views, clicks, conv = (np.take_along_axis(a, order, axis=2).ravel()
                                for a in (pos, views, clicks, conv))
    mod = np.take_along_axis(np.broadcast_to(mods[:, None, :], order.shape), order, axis=2)
    bb = np.repeat(b2b, len(DEVICES) * n_m)
    return pd.DataFrame({
        "store_id": _gather(st["store_id"], np.repeat(np.arange(n_s), len(DEVICES) * n_m)),
        "device": const_categorical(np.tile(np.repeat(np.arange(len(DEVICES)), n_m), n_s), DEVICES),
        "module": const_categorical(mod.ravel(), MODULES), "position": pos,
        "views": views, "clicks": clicks,
        "orders": np.where(bb, 0, conv), "inquiries": np.where(bb, conv, 0)})


def _banner_tests(rng: np.random.Generator, ctx: Context, sess: np.ndarray) -> pd.DataFrame:
    st = ctx.tables["stores"]
    b2b = st["model"].astype(str).to_numpy() == "B2B"
    sess = sess.sum(axis=1)
    n = len(st)
    days = 28
    half = np.maximum(np.round(sess * days / max(ctx.n_days, 1) * 0.4 / 2), 2000)
    s = rng.poisson(np.column_stack([half, half])).astype(np.int64)
    base = np.where(b2b, 0.012, 0.025) * rng.lognormal(0.0, 0.2, n)
    lift = rng.choice([-0.2, 0.0, 0.15, 0.6], n)
    conv = rng.binomial(s, np.column_stack([base, np.clip(base * (1 + lift), 0, 1)]))
    start = ctx.end - pd.Timedelta(days=days - 1) - pd.to_timedelta(
        rng.integers(0, 60, n), unit="D")
    return pd.DataFrame({
        "store_id": _gather(st["store_id"], np.repeat(np.arange(n), 2)),
        "poster": const_categorical(np.tile([0, 1], n), POSTERS),
        "start_date": np.repeat(start.to_numpy(), 2),
        "end_date": np.repeat((start + pd.Timedelta(days=days - 1)).to_numpy(), 2),
        "sessions": s.ravel(),
        "orders": np.where(b2b[:, None], 0, conv).ravel(),
        "inquiries": np.where(b2b[:, None], conv, 0).ravel(),
    })


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    """The ``media_library``, ``image_tests``, ``store_modules`` and ``banner_tests`` tables."""
    rng = ctx.rng("visual")
    r_media, r_tests, r_modules, r_banner = rng.spawn(4)
    media, labels = _media(r_media, ctx)
    sess = _sessions_by_store_device(ctx, ctx.tables["stores"]["store_id"].to_numpy(object))
    return {"media_library": media, "image_tests": _image_tests(r_tests, ctx),
            "store_modules": _store_modules(r_modules, ctx, sess),
            "banner_tests": _banner_tests(r_banner, ctx, sess),
            "anomalies": pd.concat(labels, ignore_index=True)}
