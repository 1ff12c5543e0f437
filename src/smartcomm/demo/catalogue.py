# ruff: noqa: E501 (the data table below keeps one subcategory per call)
"""The demo retailer's catalogue: 12 departments, 48 subcategories, about 1,500 priced products.

Departments carry a share of baskets, a seasonal profile (toys and electronics peak in December,
the garden in May) and the departments they are bought together with.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Subcategory:
    code: str
    name: str
    price_range: tuple[int, int]  # roubles, per piece or per kg
    nouns: tuple[str, ...]
    brands: tuple[str, ...]
    variants: tuple[str, ...]
    by_weight: bool = False


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    share: float
    partners: tuple[str, ...]
    subcategories: tuple[Subcategory, ...]
    season: dict[int, float] = field(default_factory=dict)  # month -> multiplier of the share

    def share_in(self, month: int) -> float:
        return self.share * self.season.get(month, 1.0)


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    department: int  # index into DEPARTMENTS
    subcategory: str
    price: int  # minor units, per piece or per kg
    by_weight: bool


def _sub(
    code: str, name: str, low: int, high: int, nouns: str, brands: str, variants: str, by_weight: bool = False
) -> Subcategory:
    return Subcategory(
        code,
        name,
        (low, high),
        tuple(nouns.split("|")),
        tuple(brands.split("|")),
        tuple(variants.split("|")),
        by_weight,
    )


# fmt: off
DEPARTMENTS: tuple[Department, ...] = (
    Department("food", "Продукты", 26, ("household", "kids", "pets"), (
        _sub("dairy", "Молочные продукты", 55, 320, "Молоко|Кефир|Йогурт|Творог|Сметана|Ряженка",
             "Простоквашино|Домик в деревне|Савушкин продукт|Parmalat|Danone|Село Зелёное",
             "1,5%|2,5%|3,2%|5%|9%"),
        _sub("bakery", "Хлеб и выпечка", 35, 240, "Хлеб|Батон|Багет|Лаваш|Круассаны|Булочки",
             "Хлебный дом|Коломенский|Черёмушки|Fazer|Каравай", "пшеничный|ржаной|цельнозерновой|с отрубями|нарезка"),
        _sub("produce", "Овощи и фрукты", 60, 420, "Яблоки|Бананы|Апельсины|Томаты|Огурцы|Картофель|Морковь|Груши",
             "Россия|Эквадор|Марокко|Турция|Азербайджан|Узбекистан", "отборные|сезонные|фермерские|мини|крупные",
             by_weight=True),
        _sub("meat", "Мясо и птица", 240, 1150,
             "Филе куриное|Фарш говяжий|Свинина шейка|Бедро индейки|Колбаса варёная|Сосиски",
             "Мираторг|Петелинка|Черкизово|Индилайт|Останкино", "охлаждённое|фермерское|халяль|для гриля",
             by_weight=True),
        _sub("grocery", "Бакалея", 45, 450, "Макароны|Рис|Гречка|Мука|Масло подсолнечное|Овсяные хлопья",
             "Макфа|Мистраль|Увелка|Barilla|Слобода|Ясно солнышко", "400 г|800 г|900 г|1 кг|1 л"),
        _sub("sweets", "Сладости", 55, 650, "Шоколад|Печенье|Конфеты|Зефир|Мармелад|Вафли",
             "Красный Октябрь|Бабаевский|Alpen Gold|Milka|Коркунов|Яшкино",
             "90 г|200 г|250 г|подарочный набор|молочный|горький"),
        _sub("drinks", "Напитки", 45, 690, "Сок|Вода минеральная|Чай чёрный|Кофе молотый|Морс|Лимонад",
             "Добрый|Боржоми|Greenfield|Jacobs|Lipton|Rich", "0,5 л|1 л|1,5 л|100 пак.|250 г"),
    ), {12: 1.2}),
    Department("household", "Бытовая химия", 10, ("food", "beauty", "home"), (
        _sub("laundry", "Стирка", 150, 1200,
             "Стиральный порошок|Гель для стирки|Кондиционер для белья|Пятновыводитель|Капсулы для стирки",
             "Persil|Ariel|Tide|Лоск|Vanish|Ушастый нянь", "1,5 кг|3 кг|1 л|2 л|30 шт."),
        _sub("cleaning", "Уборка", 80, 650,
             "Средство для пола|Чистящее средство|Средство для стёкол|Губки|Освежитель воздуха",
             "Mr. Proper|Domestos|Cif|Sanfor|Glade|Clean Home", "500 мл|750 мл|1 л|5 шт.|лимон"),
        _sub("dishwashing", "Средства для посуды", 70, 900,
             "Средство для мытья посуды|Таблетки для посудомоечной машины|Соль для посудомоечной машины"
             "|Ополаскиватель",
             "Fairy|Finish|AOS|Somat|Synergetic", "450 мл|900 мл|40 шт.|100 шт.|1,5 кг"),
        _sub("paper", "Бумажная продукция", 60, 700, "Туалетная бумага|Бумажные полотенца|Салфетки|Влажные салфетки",
             "Zewa|Kleenex|Папия|Мягкий знак|Tork", "4 рулона|8 рулонов|12 рулонов|100 шт.|2 слоя"),
    )),
    Department("beauty", "Красота и здоровье", 11, ("household", "clothes"), (
        _sub("hair", "Уход за волосами", 180, 1400, "Шампунь|Бальзам|Маска для волос|Масло для волос|Краска для волос",
             "L'Oréal Paris|Pantene|Head & Shoulders|Garnier|Чистая линия|Estel",
             "250 мл|400 мл|для окрашенных волос|восстановление|объём"),
        _sub("face", "Уход за лицом", 250, 3500, "Крем для лица|Сыворотка|Тоник|Маска тканевая|Мицеллярная вода",
             "La Roche-Posay|Vichy|Garnier|Nivea|Natura Siberica|Librederm", "50 мл|200 мл|увлажняющий|SPF 30|ночной"),
        _sub("makeup", "Декоративная косметика", 200, 2200,
             "Тушь|Помада|Тональный крем|Пудра|Карандаш для глаз|Лак для ногтей",
             "Maybelline|Max Factor|Bourjois|Essence|Vivienne Sabo|Relouis", "тон 01|тон 02|тон 03|матовый|водостойкий"),
        _sub("perfume", "Парфюмерия", 1200, 9000, "Туалетная вода|Парфюмерная вода|Дезодорант-спрей",
             "Chanel|Dior|Hugo Boss|Lacoste|Zara|Новая Заря", "30 мл|50 мл|100 мл|женская|мужская"),
        _sub("hygiene", "Гигиена", 60, 600, "Зубная паста|Зубная щётка|Гель для душа|Мыло|Дезодорант",
             "Colgate|Splat|Oral-B|Dove|Rexona|Palmolive", "75 мл|250 мл|мягкая|средняя|свежесть"),
    ), {2: 1.2, 3: 1.6, 12: 1.6}),
    Department("kids", "Детские товары", 7, ("food", "books", "clothes"), (
        _sub("diapers", "Подгузники", 600, 2400, "Подгузники|Трусики-подгузники|Пелёнки одноразовые",
             "Pampers|Huggies|Merries|Libero|Lovular", "1 (2–5 кг)|3 (6–10 кг)|4 (9–14 кг)|5 (12–17 кг)|мега-упаковка"),
        _sub("babyfood", "Детское питание", 50, 1200, "Пюре|Каша|Смесь молочная|Сок детский",
             "Фрутоняня|Агуша|Nutrilon|Heinz|Бабушкино лукошко|Gerber", "80 г|200 г|250 г|с 6 месяцев|с 12 месяцев"),
        _sub("toys", "Игрушки", 250, 6000, "Конструктор|Кукла|Машинка|Настольная игра|Пазл|Мягкая игрушка",
             "LEGO|Barbie|Hot Wheels|Hasbro|Ravensburger|Мир деревянных игрушек",
             "базовый набор|большой набор|3+|6+|коллекционная серия"),
        _sub("kidswear", "Детская одежда", 350, 3500, "Футболка|Комбинезон|Пижама|Шапка|Колготки",
             "Acoola|Crockid|Playtoday|Reima|Gloria Jeans Kids", "рост 92|рост 104|рост 116|рост 128|рост 140"),
    ), {6: 1.2, 12: 1.8}),
    Department("clothes", "Одежда", 8, ("shoes", "beauty"), (
        _sub("women", "Женская одежда", 900, 7500, "Платье|Блузка|Джинсы|Свитер|Юбка|Куртка",
             "Zarina|Befree|Love Republic|Gloria Jeans|Mango|O'stin", "XS|S|M|L|XL"),
        _sub("men", "Мужская одежда", 900, 8000, "Рубашка|Джинсы|Футболка|Худи|Брюки|Куртка",
             "O'stin|Tom Tailor|Levi's|Sela|Colin's|Gloria Jeans", "S|M|L|XL|XXL"),
        _sub("underwear", "Бельё и носки", 190, 2500, "Носки|Бюстгальтер|Трусы|Пижама|Колготки",
             "Incity|Conte|Omsa|Tezenis|Infinity Lingerie", "S|M|L|2 пары|5 пар"),
        _sub("accessories", "Аксессуары", 350, 4500, "Сумка|Ремень|Шарф|Перчатки|Кошелёк|Солнцезащитные очки",
             "Fabretti|Eleganzza|Accessorize|Parfois|Labbra", "чёрный|коричневый|бежевый|серый|красный"),
    ), {3: 1.1, 9: 1.2, 10: 1.2, 12: 1.2}),
    Department("shoes", "Обувь", 4, ("clothes", "sport"), (
        _sub("womenshoes", "Женская обувь", 1900, 9000, "Ботильоны|Кроссовки|Туфли|Сапоги|Балетки",
             "Ekonika|Ralf Ringer|Rieker|Zenden|Tamaris", "36|37|38|39|40"),
        _sub("menshoes", "Мужская обувь", 2200, 9500, "Ботинки|Кроссовки|Полуботинки|Кеды",
             "Ralf Ringer|Ecco|Rieker|Zenden|Puma", "40|41|42|43|44"),
        _sub("kidsshoes", "Детская обувь", 1200, 4500, "Кроссовки|Сандалии|Ботинки|Сапоги резиновые",
             "Котофей|Kapika|Зебра|Demar|Kuoma", "26|28|30|32|34"),
    ), {4: 1.2, 9: 1.3, 10: 1.3}),
    Department("electronics", "Электроника", 4, ("home", "books"), (
        _sub("phones", "Смартфоны и аксессуары", 390, 45000,
             "Смартфон|Чехол|Защитное стекло|Зарядное устройство|Кабель USB-C|Внешний аккумулятор",
             "Xiaomi|Samsung|Realme|Honor|Baseus|Anker", "64 ГБ|128 ГБ|256 ГБ|чёрный|белый"),
        _sub("audio", "Наушники и колонки", 890, 15000,
             "Наушники беспроводные|Наушники проводные|Портативная колонка|Умная колонка",
             "JBL|Sony|Xiaomi|Яндекс|Marshall|Huawei", "чёрные|белые|синие|Mini|Pro"),
        _sub("appliances", "Мелкая бытовая техника", 1200, 14000,
             "Фен|Электрочайник|Блендер|Утюг|Пылесос вертикальный|Кофеварка",
             "Philips|Bosch|Polaris|Redmond|Tefal|Braun", "1800 Вт|2000 Вт|1,7 л|компактный|с дисплеем"),
        _sub("computers", "Компьютерные аксессуары", 390, 7000, "Мышь|Клавиатура|Флешка|Веб-камера|Коврик для мыши",
             "Logitech|A4Tech|Defender|SanDisk|Kingston", "беспроводная|проводная|32 ГБ|64 ГБ|Full HD"),
    ), {11: 1.4, 12: 1.9}),
    Department("home", "Дом и интерьер", 7, ("household", "electronics", "garden"), (
        _sub("cookware", "Посуда и кухня", 250, 6000, "Сковорода|Кастрюля|Набор ножей|Кружка|Тарелка|Контейнер для еды",
             "Tefal|Rondell|Attribute|Fissman|Luminarc", "24 см|28 см|2 л|набор 6 шт.|стеклянный"),
        _sub("textile", "Текстиль", 350, 5500, "Полотенце|Постельное бельё|Плед|Подушка|Одеяло",
             "Cleanelly|Togas|Arya|Mona Liza|Sleepy", "1,5-спальное|2-спальное|евро|50×70|70×140"),
        _sub("storage", "Хранение", 150, 2500, "Коробка для хранения|Вешалки|Органайзер|Корзина|Полка",
             "Idea|Spaceo|Hausmann|Berossi|Zeller", "10 л|20 л|набор 5 шт.|белый|серый"),
        _sub("lighting", "Освещение", 150, 4500,
             "Лампа светодиодная|Настольная лампа|Гирлянда|Ночник|Светильник потолочный",
             "Gauss|Philips|Эра|Camelion|Navigator", "E27|E14|тёплый свет|холодный свет|10 м"),
        _sub("decor", "Декор", 200, 4000, "Свеча ароматическая|Ваза|Фоторамка|Искусственные цветы|Ёлочная игрушка",
             "Hoff|Home Interiors|Bonne Maison|Зимнее волшебство", "малая|большая|набор|белая|золотая"),
    ), {11: 1.2, 12: 1.5}),
    Department("sport", "Спорт и отдых", 4, ("clothes", "shoes"), (
        _sub("fitness", "Фитнес", 300, 6000, "Коврик для йоги|Гантели|Фитнес-резинки|Скакалка|Бутылка для воды",
             "Demix|Torneo|Starfit|Kettler|Domyos", "1 кг|2 кг|5 кг|173 см|набор"),
        _sub("outdoor", "Туризм", 500, 12000, "Рюкзак|Палатка|Спальный мешок|Термос|Фонарик",
             "Outventure|Tramp|Stanley|Nova Tour|Sivera", "30 л|45 л|2-местная|0,75 л|летний"),
        _sub("bikes", "Велотовары и самокаты", 600, 25000,
             "Самокат|Велошлем|Велозамок|Фонарь велосипедный|Велосипед детский",
             "Stels|Forward|Novatrack|Tech Team|Cube", '16"|20"|26"|взрослый|детский'),
    ), {1: 1.3, 5: 1.4, 6: 1.5, 7: 1.4}),
    Department("pets", "Зоотовары", 5, ("food", "household"), (
        _sub("catfood", "Корма для кошек", 40, 3500,
             "Корм сухой для кошек|Корм влажный для кошек|Лакомство для кошек",
             "Whiskas|Purina One|Felix|Royal Canin|Perfect Fit|Sheba", "85 г|400 г|1,5 кг|10 кг|говядина"),
        _sub("dogfood", "Корма для собак", 50, 5500,
             "Корм сухой для собак|Корм влажный для собак|Лакомство для собак",
             "Pedigree|Chappi|Purina Pro Plan|Royal Canin|Cesar", "85 г|2,5 кг|13 кг|курица|ягнёнок"),
        _sub("petcare", "Наполнители и уход", 150, 1800,
             "Наполнитель комкующийся|Наполнитель силикагелевый|Пелёнки для животных|Игрушка для кошек",
             "Pi-Pi-Bent|N1|Barsik|Triol|Beaphar", "5 л|10 л|30 шт.|для котят|без запаха"),
    )),
    Department("books", "Книги и канцтовары", 4, ("kids", "electronics"), (
        _sub("books", "Книги", 300, 1500, "Роман|Детектив|Детская книга|Книга по психологии|Кулинарная книга",
             "Эксмо|АСТ|Азбука|МИФ|Росмэн", "твёрдый переплёт|мягкий переплёт|подарочное издание|новинка"),
        _sub("stationery", "Канцтовары", 40, 900, "Тетрадь|Ручка шариковая|Ежедневник|Набор карандашей|Маркер",
             "Erich Krause|Brauberg|Attache|Hatber|Faber-Castell", "48 листов|96 листов|синяя|набор 12 шт.|А5"),
        _sub("crafts", "Товары для творчества", 150, 2500,
             "Краски акриловые|Набор для вышивания|Пластилин|Раскраска по номерам|Бумага цветная",
             "Гамма|Луч|Сонет|Белоснежка|Danko Toys", "12 цветов|24 цвета|А4|30×40 см|набор"),
    ), {8: 1.6, 9: 1.8, 12: 1.3}),
    Department("garden", "Сад и дача", 3, ("home", "food"), (
        _sub("seeds", "Семена и рассада", 25, 450,
             "Семена томатов|Семена огурцов|Рассада клубники|Луковицы тюльпанов|Газонная трава",
             "Гавриш|Поиск|Седек|Аэлита|Русский огород", "0,1 г|0,5 г|1 кг|5 шт.|ранний сорт"),
        _sub("tools", "Садовый инвентарь", 250, 6000, "Лопата|Секатор|Шланг поливочный|Грабли|Лейка",
             "Fiskars|Gardena|Park|Зубр|Palisad", "15 м|25 м|10 л|малый|большой"),
        _sub("fertilizer", "Удобрения и грунт", 90, 1200,
             "Грунт универсальный|Удобрение комплексное|Средство от вредителей|Мульча",
             "Фаско|Буйские удобрения|Агрикола|Гера|Terra Vita", "10 л|50 л|1 кг|5 кг|для томатов"),
    ), {1: 0.15, 2: 0.3, 3: 1.2, 4: 3.0, 5: 3.5, 6: 2.2, 7: 1.3, 8: 1.2, 9: 0.8, 10: 0.4, 11: 0.2, 12: 0.15}),
)
# fmt: on

DEPARTMENT_INDEX = {department.code: index for index, department in enumerate(DEPARTMENTS)}
PRODUCTS_PER_SUBCATEGORY = 31


def retail_price(roubles: float) -> int:
    """A shelf price in minor units: 89.90 below 100 roubles, 1,299.00 above."""
    whole = int(roubles)
    if whole < 100:
        return (whole // 10 * 10 + 9) * 100 + 90
    return (whole // 10 * 10 + 9) * 100


def build_products(rng: random.Random) -> list[DemoProduct]:
    """Every product of the catalogue, with an 8-digit SKU: department, subcategory, number."""
    products: list[DemoProduct] = []
    for d_index, department in enumerate(DEPARTMENTS):
        for s_index, sub in enumerate(department.subcategories):
            names = _product_names(rng, sub)
            low, high = math.log(sub.price_range[0]), math.log(sub.price_range[1])
            for number, name in enumerate(names, start=1):
                price = retail_price(math.exp(rng.uniform(low, high)))
                sku = f"{d_index + 1:02d}{s_index + 1:02d}{number:04d}"
                products.append(DemoProduct(sku, name, d_index, sub.code, price, sub.by_weight))
    return products


def _product_names(rng: random.Random, sub: Subcategory) -> list[str]:
    combos = [(n, b, v) for n in sub.nouns for b in sub.brands for v in sub.variants]
    chosen = rng.sample(combos, min(PRODUCTS_PER_SUBCATEGORY, len(combos)))
    if sub.by_weight:
        return [f"{noun} {variant}, {brand}, 1 кг" for noun, brand, variant in chosen]
    return [f"{noun} {brand} {variant}" for noun, brand, variant in chosen]
