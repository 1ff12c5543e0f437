# ruff: noqa: E501 (the city table keeps one city per call)
"""Cities and stores of the demo retailer: 31 stores in 18 Russian cities plus the online store."""

from __future__ import annotations

from dataclasses import dataclass

COUNTRY = "Россия"
ONLINE_STORE_CODE = "online"


@dataclass(frozen=True)
class City:
    code: str
    name: str
    region: str
    time_zone: str
    utc_offset: int  # hours; Russia keeps no daylight saving time
    area_code: str  # for landline numbers
    share: float  # of the customer base
    malls: tuple[str, ...]  # one store per entry


# fmt: off
CITIES: tuple[City, ...] = (
    City("MSK", "Москва", "Москва", "Europe/Moscow", 3, "495", 30,
         ("ТЦ «Авиапарк»", "ТРЦ «Европейский»", "ТЦ «Метрополис»", "ТРК «Вегас»", "ТЦ «Columbus»", "ТЦ «Атриум»")),
    City("SPB", "Санкт-Петербург", "Санкт-Петербург", "Europe/Moscow", 3, "812", 14,
         ("ТРК «Галерея»", "ТРЦ «Питерлэнд»", "ТЦ «Гранд Каньон»", "ТРК «Континент»")),
    City("EKB", "Екатеринбург", "Свердловская область", "Asia/Yekaterinburg", 5, "343", 5,
         ("ТРЦ «Гринвич»", "ТРЦ «Мега Екатеринбург»")),
    City("NSK", "Новосибирск", "Новосибирская область", "Asia/Novosibirsk", 7, "383", 5,
         ("ТРЦ «Аура»", "ТРЦ «Галерея Новосибирск»")),
    City("KZN", "Казань", "Республика Татарстан", "Europe/Moscow", 3, "843", 4.5, ("ТРК «Кольцо»", "ТЦ «Мега Казань»")),
    City("NNV", "Нижний Новгород", "Нижегородская область", "Europe/Moscow", 3, "831", 4,
         ("ТРЦ «Фантастика»", "ТРЦ «Небо»")),
    City("KRD", "Краснодар", "Краснодарский край", "Europe/Moscow", 3, "861", 4,
         ("ТРЦ «Красная Площадь»", "ТЦ «OZ Молл»")),
    City("SMR", "Самара", "Самарская область", "Europe/Samara", 4, "846", 3, ("ТРК «Космопорт»",)),
    City("ROV", "Ростов-на-Дону", "Ростовская область", "Europe/Moscow", 3, "863", 3, ("ТРЦ «Горизонт»",)),
    City("UFA", "Уфа", "Республика Башкортостан", "Asia/Yekaterinburg", 5, "347", 3, ("ТРЦ «Планета»",)),
    City("PRM", "Пермь", "Пермский край", "Asia/Yekaterinburg", 5, "342", 2.5, ("ТРЦ «Планета Пермь»",)),
    City("VRN", "Воронеж", "Воронежская область", "Europe/Moscow", 3, "473", 2.5, ("ТРЦ «Галерея Чижова»",)),
    City("VGG", "Волгоград", "Волгоградская область", "Europe/Volgograd", 3, "8442", 2.5, ("ТРЦ «Ворошиловский»",)),
    City("KJA", "Красноярск", "Красноярский край", "Asia/Krasnoyarsk", 7, "391", 2.5, ("ТРЦ «Планета Красноярск»",)),
    City("CHE", "Челябинск", "Челябинская область", "Asia/Yekaterinburg", 5, "351", 2.5, ("ТРК «Родник»",)),
    City("OMS", "Омск", "Омская область", "Asia/Omsk", 6, "3812", 2, ("ТЦ «Мега Омск»",)),
    City("TJM", "Тюмень", "Тюменская область", "Asia/Yekaterinburg", 5, "3452", 2, ("ТРЦ «Кристалл»",)),
    City("VVO", "Владивосток", "Приморский край", "Asia/Vladivostok", 10, "423", 1.5, ("ТЦ «Калина Молл»",)),
)
# fmt: on


@dataclass(frozen=True)
class DemoStore:
    code: str
    name: str
    city: int | None  # index into CITIES; None for the online store
    is_online: bool = False


def build_stores() -> list[DemoStore]:
    """The physical stores, city by city, then the online store (always last)."""
    stores = [
        DemoStore(f"{city.code}-{number:02d}", f"{city.name}, {mall}", index)
        for index, city in enumerate(CITIES)
        for number, mall in enumerate(city.malls, start=1)
    ]
    stores.append(DemoStore(ONLINE_STORE_CODE, "Интернет-магазин", None, is_online=True))
    return stores
