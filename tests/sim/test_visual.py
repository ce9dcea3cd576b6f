"""Stage ``visual``: image/video bank, main-image tests, homepage modules, poster tests.

Checked on the shared ``small_world`` / ``small_world_b`` fixtures (the real pipeline).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cbec_sim.schema import REGISTRY, conform, validate_references, validate_table
from cbec_sim.tables import visual

TABLES = ("media_library", "image_tests", "store_modules", "banner_tests")


@pytest.fixture(scope="module", params=["small_world", "small_world_b"])
def w(request):
    return request.getfixturevalue(request.param)


def _name_ok(m: pd.DataFrame) -> np.ndarray:
    """The documented naming rule, row by row (independent of the generator's code)."""
    return np.array([re.fullmatch(visual.NAME_PATTERN.format(sku=re.escape(s), angle=a, seq=q),
                                  f) is not None
                     for s, a, q, f in zip(m["sku"], m["angle"].astype(str), m["seq"],
                                           m["file_name"], strict=True)])


def _spec_bad(m: pd.DataFrame) -> np.ndarray:
    img = (m["media_type"] == "image").to_numpy()
    small = np.minimum(m["width_px"], m["height_px"]).to_numpy() < visual.IMAGE_MIN_SIDE_PX
    big = m["file_size_kb"].to_numpy() > visual.IMAGE_MAX_KB
    main_flat = (m["seq"] == 1).to_numpy() & (m["width_px"] != m["height_px"]).to_numpy()
    return img & (small | big | main_flat)


def test_schemas_and_references(w):
    for t in TABLES:
        assert validate_table(w.tables[t], REGISTRY[t]) == [], t
        assert len(w.tables[t]) > 0, t
    parents = ("stores", "listings", "products")
    assert validate_references({t: w.tables[t] for t in (*TABLES, *parents)}) == []


def test_deterministic():
    import cbec_sim

    a, b = cbec_sim.generate(1500, rng=11), cbec_sim.generate(1500, rng=11)
    for t in TABLES:
        pd.testing.assert_frame_equal(a.tables[t], b.tables[t], obj=t)


def test_new_stage_leaves_earlier_tables_unchanged(small_world):
    from cbec_sim.generate import _context, _run_stages

    ctx = _context(3000, None, None, "2025-01-01", 12, 7)
    _run_stages(ctx, until_table="b2b_keyword_stats")
    out = visual.build(ctx)
    for t in TABLES:
        pd.testing.assert_frame_equal(conform(out[t], REGISTRY[t]), small_world.tables[t],
                                      obj=t)
    for t in ("listings", "orders", "traffic_daily", "b2b_keyword_stats"):
        pd.testing.assert_frame_equal(conform(ctx.tables[t], REGISTRY[t]),
                                      small_world.tables[t], obj=t)


def test_media_agrees_with_listings(w):
    m, li = w.media_library, w.listings.set_index("listing_id")
    img = m[m["media_type"] == "image"]
    n_img = img.groupby("listing_id").size()
    assert (n_img.reindex(li.index).fillna(0) == li["image_count"]).all()
    main = img[img["seq"] == 1].set_index("listing_id")
    assert (main["angle"] == "front").all()
    assert (main["white_background"] == li.loc[main.index, "main_image_white_bg"]).all()
    vid = m[m["media_type"] == "video"]
    assert set(vid["listing_id"]) == set(li.index[li["has_video"]])
    assert not vid["listing_id"].duplicated().any()
    assert vid["duration_s"].notna().all() and img["duration_s"].isna().all()
    sku = w.products.set_index("product_id")["sku"]
    assert (m["sku"].to_numpy() == sku.reindex(m["product_id"]).to_numpy()).all()
    assert (m["store_id"].to_numpy()
            == li.loc[m["listing_id"], "store_id"].to_numpy()).all()
    assert m["media_id"].is_unique


def test_planted_violations_are_labelled_and_detectable(w):
    m, lab = w.media_library, w.labels["anomalies"]
    names = set(lab.loc[lab["kind"] == "image_name_violation", "entity_id"])
    specs = set(lab.loc[lab["kind"] == "image_spec_violation", "entity_id"])
    assert names and specs
    assert set(m.loc[~_name_ok(m), "media_id"]) == names
    assert set(m.loc[_spec_bad(m), "media_id"]) == specs


def test_shot_list_has_gaps_but_most_products_are_covered(w):
    img = w.media_library[w.media_library["media_type"] == "image"]
    have = img.groupby("product_id")["angle"].agg(lambda s: set(s.astype(str)))
    missing = have.map(lambda a: bool(set(visual.REQUIRED_ANGLES) - a))
    assert 0 < missing.sum() < len(missing)


def test_image_tests(w):
    t = w.image_tests
    assert (t.groupby("test_id")["variant"].agg(lambda s: "".join(sorted(s.astype(str))))
            == "AB").all()
    assert (t["clicks"] <= t["impressions"]).all()
    assert ((t["end_date"] - t["start_date"]).dt.days == visual.TEST_DAYS - 1).all()
    li = w.listings.set_index("listing_id")
    assert (li.loc[t["listing_id"], "status"].astype(str) == "active").all()
    assert (li.loc[t["listing_id"], "store_id"].to_numpy() == t["store_id"].to_numpy()).all()
    # the planted clear winner: B's CTR well above A's
    first = t[t["test_id"] == t["test_id"].min()].set_index("variant")
    ctr = first["clicks"] / first["impressions"]
    assert ctr["B"] > ctr["A"]


def test_store_modules_follow_traffic(w):
    sm, st = w.store_modules, w.stores
    assert len(sm) == len(st) * len(visual.DEVICES) * len(visual.B2C_MODULES)
    assert (sm["clicks"] <= sm["views"]).all()
    assert (sm["orders"] + sm["inquiries"] <= sm["clicks"]).all()
    assert not sm.duplicated(["store_id", "device", "module"]).any()
    assert not sm.duplicated(["store_id", "device", "position"]).any()
    assert (sm.loc[sm["module"] == "banner", "position"] == 1).all()
    b2b = set(st.loc[st["model"].astype(str) == "B2B", "store_id"])
    is_b2b = sm["store_id"].isin(b2b)
    assert (sm.loc[is_b2b, "orders"] == 0).all() and (sm.loc[~is_b2b, "inquiries"] == 0).all()
    # homepage views never exceed the store's sessions on that device
    sess = w.traffic_daily.groupby(["store_id", "device"], observed=True)["sessions"].sum()
    top = sm[sm["position"] == 1].set_index(["store_id", "device"])["views"]
    assert (top <= sess.reindex(top.index).fillna(0)).all()


def test_banner_tests(w):
    b, st = w.banner_tests, w.stores
    assert len(b) == 2 * len(st)
    assert (b["orders"] + b["inquiries"] <= b["sessions"]).all()
    b2b = set(st.loc[st["model"].astype(str) == "B2B", "store_id"])
    assert (b.loc[b["store_id"].isin(b2b), "orders"] == 0).all()
    end = pd.Timestamp(w.meta["start"]) + pd.DateOffset(months=w.meta["months"])
    assert (b["end_date"] < end).all()
