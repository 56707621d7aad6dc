"""Who may do what. (Only the roles for now; the access policy itself comes with disaster/access.)"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CITY_ADMIN = "city_admin"  # 市の管理者
    CITY_STAFF = "city_staff"  # 市職員
    LEADER = "leader"  # 校区リーダー・民生委員 (one or more 校区)
    TRAINER = "trainer"  # 図上訓練の進行役
    CARE_PROFESSIONAL = "care_professional"  # 福祉専門職 (the residents assigned to them)
    PUBLIC = "public"  # no login
