"""What the demo business is made of: the company, its payment terms, VAT rates, products,
and the name pools its customers are drawn from. Plain data; the simulator brings it to life.

The company is Bottega Emiliana S.r.l., a Modena distributor of Italian food, wine and
professional kitchen equipment, selling to restaurants, shops and importers in Italy, France,
Spain, Germany, Mexico and the United States (and to a few private buyers in the EU)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from o2c.domain.commands import CreateCompany, CreatePaymentTerms

D = Decimal

COMPANY = CreateCompany(
    code="BOTTEGA", name="Bottega Emiliana S.r.l.", country="IT", currency="EUR",
    vat_id="IT03264120365", iban="IT70K0503412900000000012345", bic="BAPPIT21",
    email="amministrazione@bottega-emiliana.example",
    address={"line1": "Via Emilia Est 1420", "city": "Modena", "postal_code": "41126",
             "region": "MO", "country": "IT"},
    overdue_hold_days=30,
    registration={"tax_code": "03264120365", "register_office": "MO",
                  "register_number": "378245", "share_capital": "50000.00",
                  "sole_shareholder": False, "in_liquidation": False})

WAREHOUSE = ("MOD", "Magazzino di Modena",
             {"line1": "Via dell'Industria 18", "city": "Modena", "postal_code": "41122",
              "country": "IT"})


TERMS = (
    CreatePaymentTerms("NET30", "Net 30 days", ((D(100), 30, False),)),
    CreatePaymentTerms("NET60", "Net 60 days", ((D(100), 60, False),)),
    CreatePaymentTerms("EOM30", "30 days end of month", ((D(100), 30, True),)),
    CreatePaymentTerms("3060", "50% at 30 days, 50% at 60 days",
                       ((D(50), 30, False), (D(50), 60, False))),
    CreatePaymentTerms("2-10N30", "2% 10 days, net 30", ((D(100), 30, False),), D(2), 10),
    CreatePaymentTerms("PREPAY", "Due on receipt (pro-forma)", ((D(100), 0, False),)),
)

VAT_FROM = date(2020, 1, 1)
# Germany has no super-reduced rate; the demo's German customers are all businesses (their
# purchases are intra-community supplies), so no German super-reduced rate is ever needed.
VAT_RATES = (
    ("IT", "standard", "22"), ("IT", "reduced", "10"), ("IT", "super_reduced", "4"),
    ("IT", "zero", "0"),
    ("FR", "standard", "20"), ("FR", "reduced", "10"), ("FR", "super_reduced", "2.1"),
    ("FR", "zero", "0"),
    ("ES", "standard", "21"), ("ES", "reduced", "10"), ("ES", "super_reduced", "4"),
    ("ES", "zero", "0"),
    ("DE", "standard", "19"), ("DE", "reduced", "7"), ("DE", "zero", "0"),
)

# Company-currency (EUR) value of one unit of each foreign currency on the first day, and how
# far it moves on a day, in units of 1/10000 (a random walk of small integer steps).
FX_START = {"USD": D("0.9210"), "MXN": D("0.04890")}
FX_DAILY_STEP = {"USD": 40, "MXN": 70}


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    unit: str
    price: str  # EUR
    category: str
    weight: int  # how often it appears on orders
    qty: tuple[int, int, str]  # quantity = step x randint(lo, hi)
    prices: dict[str, str] = field(default_factory=dict)  # USD / MXN price lists
    retail: bool = False  # private buyers order it too
    service: bool = False  # a service, not goods (reverse charged to businesses abroad)
    short: bool = False  # its supplier often delivers late or less than ordered
    season: tuple[int, ...] = ()  # months it sells three times as much


PRODUCTS = (
    # Pasta, rice and flour (super-reduced VAT in Italy)
    ProductSpec("PAS-SPA-500", "Spaghetti di Gragnano IGP 500 g (cartone da 24)", "C62",
                "38.40", "super_reduced", 90, (2, 30, "1"),
                {"USD": "44.00", "MXN": "880.00"}, retail=True),
    ProductSpec("PAS-TAG-250", "Tagliatelle all'uovo 250 g (cartone da 20)", "C62", "42.00",
                "super_reduced", 60, (2, 20, "1"), {"USD": "48.50"}, retail=True),
    ProductSpec("PAS-ORE-500", "Orecchiette pugliesi 500 g (cartone da 24)", "C62", "36.00",
                "super_reduced", 45, (2, 20, "1")),
    ProductSpec("RIS-CAR-1K", "Riso Carnaroli 1 kg (cartone da 10)", "C62", "32.00",
                "super_reduced", 40, (2, 15, "1"), retail=True),
    ProductSpec("FAR-00-25K", "Farina di grano tenero tipo 00, sacco 25 kg", "C62", "27.50",
                "super_reduced", 50, (2, 40, "1")),
    ProductSpec("TOM-SMZ-400", "Pomodoro San Marzano DOP 400 g (cartone da 24)", "C62",
                "45.60", "super_reduced", 55, (2, 25, "1"), {"USD": "52.00"}),
    ProductSpec("TOM-PAS-700", "Passata di pomodoro 700 g (cartone da 12)", "C62", "21.00",
                "super_reduced", 50, (2, 30, "1")),
    # Oil and cheese
    ProductSpec("OIL-EVO-1L", "Olio extravergine di oliva 1 l (cartone da 12)", "C62",
                "118.80", "super_reduced", 70, (1, 12, "1"),
                {"USD": "135.00", "MXN": "2690.00"}, retail=True),
    ProductSpec("OIL-EVO-5L", "Olio extravergine di oliva, latta 5 l", "C62", "52.00",
                "super_reduced", 45, (2, 20, "1")),
    ProductSpec("CHE-PAR-24M", "Parmigiano Reggiano DOP 24 mesi", "KGM", "19.80",
                "super_reduced", 75, (4, 80, "0.5"), {"USD": "23.50", "MXN": "470.00"},
                retail=True),
    ProductSpec("CHE-GRA-16M", "Grana Padano DOP 16 mesi", "KGM", "14.20", "super_reduced",
                40, (4, 60, "0.5")),
    ProductSpec("CHE-PEC-ROM", "Pecorino Romano DOP", "KGM", "16.50", "super_reduced", 30,
                (4, 40, "0.5"), {"USD": "19.90"}),
    # Cured meats, vinegar, honey (reduced VAT)
    ProductSpec("SAL-PRO-PAR", "Prosciutto di Parma DOP disossato", "KGM", "24.90", "reduced",
                45, (7, 40, "0.5"), short=True),
    ProductSpec("SAL-MOR-BOL", "Mortadella Bologna IGP", "KGM", "13.40", "reduced", 35,
                (4, 30, "0.5")),
    ProductSpec("ACE-BAL-250", "Aceto Balsamico di Modena IGP 250 ml (cartone da 6)", "C62",
                "39.00", "reduced", 55, (1, 12, "1"), {"USD": "45.00", "MXN": "890.00"},
                retail=True),
    ProductSpec("ACE-TRD-100", "Aceto Balsamico Tradizionale di Modena DOP 100 ml", "C62",
                "68.00", "reduced", 25, (1, 12, "1"), {"USD": "79.00", "MXN": "1590.00"},
                retail=True, short=True),
    ProductSpec("MIE-ACA-500", "Miele di acacia 500 g (cartone da 6)", "C62", "41.40",
                "reduced", 20, (1, 8, "1"), retail=True),
    ProductSpec("TAR-NER-EST", "Tartufo nero estivo fresco", "KGM", "420.00", "reduced", 8,
                (1, 8, "0.25"), {"USD": "489.00"}, short=True, season=(6, 7, 8)),
    # Coffee, wine and spirits (standard VAT)
    ProductSpec("CAF-ESP-1K", "Caffè in grani miscela espresso 1 kg", "C62", "24.50",
                "standard", 65, (2, 40, "1"), {"USD": "27.90", "MXN": "560.00"},
                retail=True),
    ProductSpec("CAF-DEK-1K", "Caffè decaffeinato in grani 1 kg", "C62", "27.00", "standard",
                25, (1, 12, "1")),
    ProductSpec("VIN-LAM-075", "Lambrusco di Sorbara DOC 0,75 l (cartone da 6)", "C62",
                "47.40", "standard", 45, (1, 20, "1"), {"USD": "55.00"}),
    ProductSpec("VIN-BAR-075", "Barolo DOCG 2019 0,75 l", "C62", "42.00", "standard", 30,
                (3, 36, "1"), {"USD": "49.00", "MXN": "980.00"}, retail=True),
    ProductSpec("VIN-PRO-075", "Prosecco DOC Extra Dry 0,75 l (cartone da 6)", "C62", "45.00",
                "standard", 40, (1, 20, "1"), {"USD": "52.00"}, season=(11, 12)),
    ProductSpec("LIQ-LIM-050", "Limoncello 0,5 l (cartone da 6)", "C62", "54.00", "standard",
                20, (1, 10, "1")),
    ProductSpec("GFT-NAT-BOX", "Cesto natalizio gastronomico", "C62", "89.00", "standard", 6,
                (1, 25, "1"), retail=True, season=(11, 12)),
    # Professional kitchen equipment
    ProductSpec("EQP-ESP-2GR", "Macchina espresso professionale 2 gruppi", "C62", "3450.00",
                "standard", 5, (1, 2, "1"), {"USD": "3950.00", "MXN": "79000.00"},
                short=True),
    ProductSpec("EQP-MAC-64", "Macinacaffè on demand 64 mm", "C62", "690.00", "standard", 7,
                (1, 3, "1"), {"USD": "790.00"}),
    ProductSpec("EQP-PAS-EST", "Estrusore per pasta fresca 5 kg/h", "C62", "2280.00",
                "standard", 3, (1, 1, "1"), short=True),
    ProductSpec("EQP-AFF-300", "Affettatrice professionale lama 300 mm", "C62", "1190.00",
                "standard", 5, (1, 2, "1"), {"USD": "1380.00"}),
    ProductSpec("EQP-IMP-20L", "Impastatrice a spirale 20 l", "C62", "1450.00", "standard", 4,
                (1, 2, "1")),
    ProductSpec("EQP-FOR-PIZ", "Forno elettrico per pizza 4+4", "C62", "2890.00", "standard",
                3, (1, 1, "1"), {"USD": "3290.00"}, short=True),
    ProductSpec("KIT-PEN-24", "Pentola in acciaio inox 24 cm", "C62", "64.00", "standard", 15,
                (1, 12, "1")),
    ProductSpec("KIT-COL-SET", "Set coltelli da chef (5 pezzi)", "C62", "189.00", "standard",
                10, (1, 6, "1"), {"USD": "215.00"}, retail=True),
    ProductSpec("KIT-TAG-ROV", "Tagliere in rovere 60x40 cm", "C62", "78.00", "standard", 10,
                (1, 8, "1"), retail=True),
    ProductSpec("KIT-MOK-6T", "Caffettiera moka 6 tazze", "C62", "29.90", "standard", 15,
                (1, 24, "1"), {"USD": "34.90", "MXN": "690.00"}, retail=True),
    # Books (super-reduced VAT in Italy)
    ProductSpec("LIB-CUC-ARG", "Il cucchiaio d'argento (ricettario)", "C62", "45.00",
                "super_reduced", 8, (1, 10, "1"), {"USD": "52.00"}, retail=True),
    ProductSpec("LIB-PAS-ATL", "The Pasta Atlas (cookbook)", "C62", "32.00", "super_reduced",
                6, (1, 10, "1"), {"USD": "37.00"}, retail=True),
    # Services, sold by the hour against the technicians' weekly capacity
    ProductSpec("SRV-INS-ORE", "Installazione e collaudo attrezzature", "HUR", "65.00",
                "standard", 8, (2, 12, "1"), {"USD": "75.00"}, service=True),
    ProductSpec("SRV-COR-BAR", "Corso barista professionale", "HUR", "85.00", "standard", 5,
                (4, 16, "1"), service=True),
    ProductSpec("SRV-MAN-ORE", "Manutenzione programmata macchine caffè", "HUR", "58.00",
                "standard", 6, (1, 6, "1"), service=True),
    # Training by an accredited body: exempt (art. 10 DPR 633/72); order tablets: domestic
    # reverse charge between Italian businesses (art. 17 c. 6 DPR 633/72)
    ProductSpec("SRV-COR-HAC", "Corso HACCP per alimentaristi (ente accreditato)", "HUR",
                "45.00", "exempt", 3, (4, 8, "1"), service=True),
    ProductSpec("EQP-TAB-10", "Tablet per comande 10 pollici", "C62", "289.00",
                "reverse_charge", 3, (1, 4, "1")),
    # Returnable pallets: a deposit, zero-rated
    ProductSpec("PAL-EPAL-CAU", "Pallet EPAL a rendere (cauzione)", "C62", "12.00", "zero", 10,
                (1, 4, "1")),
)


@dataclass(frozen=True)
class City:
    name: str
    postal_code: str
    region: str = ""


@dataclass(frozen=True)
class CountrySpec:
    code: str
    currency: str
    language: str
    share: int  # of the customer base, percent
    consumers: int  # percent of this country's customers who are private buyers
    business_kinds: tuple[str, ...]
    business_names: tuple[str, ...]
    surnames: tuple[str, ...]
    first_names: tuple[str, ...]
    legal_forms: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[City, ...]
    terms: tuple[tuple[str, int], ...]  # (payment terms code, weight)


COUNTRIES = (
    CountrySpec(
        "IT", "EUR", "it", 38, 12,
        ("Ristorante", "Trattoria", "Osteria", "Pizzeria", "Gastronomia", "Salumeria",
         "Enoteca", "Pasticceria", "Hotel", "Bar"),
        ("Da Mario", "Il Gabbiano", "La Pergola", "Al Vecchio Mulino", "Bella Napoli",
         "Sole e Luna", "La Lanterna", "Il Torchio", "Ai Portici", "La Rocca", "Il Glicine",
         "Al Cantuccio"),
        ("Rossi", "Bianchi", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino",
         "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano",
         "Rizzo", "Lombardi", "Moretti", "Barbieri"),
        ("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Sara", "Matteo",
         "Elena", "Davide"),
        ("S.r.l.", "S.n.c.", "S.p.A.", "S.a.s."),
        ("Via Garibaldi", "Corso Vittorio Emanuele", "Via Mazzini", "Piazza Cavour",
         "Via Roma", "Via Dante"),
        (City("Milano", "20121", "MI"), City("Bologna", "40121", "BO"),
         City("Roma", "00186", "RM"), City("Torino", "10121", "TO"),
         City("Firenze", "50122", "FI"), City("Napoli", "80132", "NA"),
         City("Verona", "37121", "VR"), City("Parma", "43121", "PR")),
        (("NET30", 30), ("EOM30", 25), ("3060", 15), ("NET60", 15), ("2-10N30", 15)),
    ),
    CountrySpec(
        "FR", "EUR", "fr", 14, 15,
        ("Bistrot", "Brasserie", "Épicerie fine", "Restaurant", "Cave", "Traiteur"),
        ("Le Comptoir", "La Cantine", "Chez Paolo", "L'Italien", "Le Marché", "La Bottega"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Fournier"),
        ("Camille", "Julien", "Léa", "Nicolas", "Chloé", "Thomas", "Manon", "Antoine"),
        ("SARL", "SAS", "EURL"),
        ("Rue de la République", "Boulevard Voltaire", "Rue du Commerce", "Avenue Jean Jaurès"),
        (City("Paris", "75011"), City("Lyon", "69002"), City("Marseille", "13001"),
         City("Bordeaux", "33000"), City("Nice", "06000"), City("Lille", "59000")),
        (("NET30", 35), ("EOM30", 40), ("NET60", 25)),
    ),
    CountrySpec(
        "ES", "EUR", "es", 12, 15,
        ("Restaurante", "Ultramarinos", "Bodega", "Taberna", "Delicatessen", "Mercado Gourmet"),
        ("La Trattoria", "El Rincón Italiano", "Casa Nonna", "Il Forno", "La Despensa"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
         "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz"),
        ("Lucía", "Javier", "Carmen", "Pablo", "Marta", "Diego", "Ana", "Sergio"),
        ("S.L.", "S.A."),
        ("Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida de la Constitución"),
        (City("Madrid", "28004"), City("Barcelona", "08002"), City("Valencia", "46002"),
         City("Sevilla", "41001"), City("Bilbao", "48001")),
        (("NET60", 50), ("NET30", 30), ("3060", 20)),
    ),
    CountrySpec(
        "DE", "EUR", "de", 14, 0,
        ("Feinkost", "Weinhandel", "Delikatessen", "Gastro-Großhandel", "Café"),
        ("Bella Italia", "Da Toni", "Il Mercato", "La Dolce Vita", "Mamma Mia"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann"),
        ("Anna", "Jonas", "Lena", "Felix", "Laura", "Lukas"),
        ("GmbH", "KG", "e.K.", "GmbH & Co. KG"),
        ("Hauptstraße", "Bahnhofstraße", "Marktplatz", "Schillerstraße"),
        (City("München", "80331"), City("Berlin", "10115"), City("Hamburg", "20095"),
         City("Köln", "50667"), City("Frankfurt am Main", "60311"),
         City("Stuttgart", "70173")),
        (("2-10N30", 55), ("NET30", 45)),
    ),
    CountrySpec(
        "MX", "MXN", "es", 9, 0,
        ("Comercializadora", "Distribuidora", "Importadora", "Grupo Gastronómico",
         "Restaurante"),
        ("del Bajío", "Gourmet", "La Italiana", "Santa Fe", "Polanco", "del Pacífico",
         "Mediterránea"),
        ("Hernández", "García", "Martínez", "López", "González", "Ramírez", "Torres",
         "Flores"),
        ("María", "José", "Guadalupe", "Juan"),
        ("S.A. de C.V.", "S. de R.L. de C.V."),
        ("Avenida Reforma", "Calle Hidalgo", "Avenida Juárez", "Boulevard Insurgentes"),
        (City("Ciudad de México", "11560", "CDMX"), City("Guadalajara", "44100", "JAL"),
         City("Monterrey", "64000", "NL"), City("Puebla", "72000", "PUE"),
         City("Querétaro", "76000", "QRO")),
        (("NET60", 50), ("NET30", 30), ("PREPAY", 20)),
    ),
    CountrySpec(
        "US", "USD", "en", 13, 0,
        ("Provisions", "Imports", "Pasta Company", "Trattoria", "Market", "Kitchen Supply"),
        ("Little Italy", "Hudson Valley", "Golden Gate", "North End", "Lakeshore",
         "Lone Star"),
        ("Russo", "Smith", "Johnson", "Caruso", "Williams", "Brown", "Lombardo", "Miller",
         "Davis", "Moretti"),
        ("Emily", "Michael", "Olivia", "James"),
        ("LLC", "Inc."),
        ("Mulberry Street", "Main Street", "Market Street", "Broadway"),
        (City("New York", "10013", "NY"), City("Chicago", "60607", "IL"),
         City("San Francisco", "94133", "CA"), City("Boston", "02113", "MA"),
         City("Philadelphia", "19147", "PA"), City("Austin", "78701", "TX")),
        (("NET30", 55), ("NET60", 25), ("PREPAY", 20)),
    ),
)

CARRIERS = {
    "IT": ("BRT", "GLS Italy", "SDA Express Courier"),
    "EU": ("DHL Freight", "DB Schenker", "GLS Europe"),
    "OVERSEAS": ("DHL Express", "FedEx International", "Kuehne+Nagel Sea Freight"),
}

# Bank codes (IBAN bank/branch part) the demo's European customers pay from.
PAYER_BANKS = {
    "IT": ("0306909606", "0200801633", "0538712900"),
    "FR": ("3000400003", "3000300100", "1027807100"),
    "ES": ("21000418", "00490001", "01821000"),
    "DE": ("37040044", "10070000", "50010517"),
}

# (reason, whether the goods can be sold again)
RETURN_REASONS = (
    ("damaged in transit", False),
    ("broken bottles on delivery", False),
    ("best-before date too short", True),
    ("wrong item delivered", True),
    ("customer ordered too much; goods taken back", True),
)
REFUSAL_REASONS = (
    ("delivery refused: wrong address; goods returned", True),
    ("whole delivery refused: cold chain broken", False),
)
