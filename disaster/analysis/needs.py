"""What a resident needs from a shelter and from the journey, derived from the 名簿 fields."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disaster.codes import CARE_LEVELS, POWER_DEPENDENT_DEVICES

# 福祉避難所 受入対象者 categories and the words that mark them in a shelter's text
WELFARE_CATEGORIES = {
    "elderly_care": ("要介護", "要支援", "高齢"),
    "disability": ("障害", "障がい", "障碍"),  # GSI 受入対象者 is written all three ways
    "medical": ("医療",),
}
MEDICAL_CARE_DEVICES = frozenset({"人工呼吸器", "たん吸引器", "在宅酸素", "経管栄養"})
SEVERE_GRADES = frozenset({"1級", "2級", "A1", "A2", "A"})
WHEELED = ("車いす", "寝たきり")


def is_true(values: pd.Series) -> np.ndarray:
    """Elementwise ``v is True`` for a nullable boolean column (None/NaN count as not true)."""
    return np.equal(values.to_numpy(dtype=object), True)


def is_false(values: pd.Series) -> np.ndarray:
    """Elementwise ``v is False`` (None/NaN — unknown — count as not false)."""
    return np.equal(values.to_numpy(dtype=object), False)


def care_index(care_levels: pd.Series) -> np.ndarray:
    """0 = none, 1-2 = 要支援1-2, 3-7 = 要介護1-5."""
    lookup = {level: i + 1 for i, level in enumerate(CARE_LEVELS)}
    return care_levels.map(lookup).fillna(0).to_numpy(dtype=int)


def needs_frame(residents: pd.DataFrame) -> pd.DataFrame:
    """Boolean needs per resident. ``residents`` has the Resident columns (lists as lists)."""
    care = care_index(residents["care_level"])
    mobility = residents["mobility"].fillna("")
    bedridden = (mobility == "寝たきり").to_numpy()
    power, dialysis, medical = _device_needs(residents["medical_devices"].tolist())
    severe_disability = (
        residents["disability_grade"].isin(SEVERE_GRADES).to_numpy()
        & residents["disability_types"].map(bool).to_numpy()
    )
    elderly_care = (care >= 5) | bedridden  # 要介護3 or more, or bedridden
    return pd.DataFrame({
        "care_index": care,
        "barrier_free": mobility.isin(WHEELED).to_numpy(),
        "power": power,
        "dialysis": dialysis,
        "bedridden": bedridden,
        "welfare_elderly_care": elderly_care,
        "welfare_disability": severe_disability,
        "welfare_medical": medical,
        "welfare_needed": elderly_care | severe_disability | medical,
        # cannot get through days without power, water or care at home
        "dependent": power | dialysis | elderly_care,
    })


def _device_needs(devices: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(power-dependent, dialysis, medical care) per resident, from each one's medical devices."""
    power, dialysis, medical = (np.zeros(len(devices), dtype=bool) for _ in range(3))
    for i, listed in enumerate(devices):
        if listed:  # most people use none
            power[i] = not POWER_DEPENDENT_DEVICES.isdisjoint(listed)
            dialysis[i] = "人工透析" in listed
            medical[i] = not MEDICAL_CARE_DEVICES.isdisjoint(listed)
    return power, dialysis, medical


def shelter_categories(accepted_groups: pd.Series) -> pd.DataFrame:
    """Which 福祉避難所 categories a shelter's 受入対象者 text covers."""
    text = accepted_groups.fillna("")
    return pd.DataFrame({
        f"welfare_{name}": text.map(lambda t, words=words: any(w in t for w in words)).to_numpy()
        for name, words in WELFARE_CATEGORIES.items()
    })
