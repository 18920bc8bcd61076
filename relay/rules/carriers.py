"""The carriers' tracking hosts that links may point to (rules.allowed_link_hosts' default).

Data, not logic: one entry per operator, its registered domain(s) under which its tracking
pages are served (a link to a subdomain of one is allowed too). The list was compiled from the
Universal Postal Union's list of designated postal operators (one per member country: the
national post, https://www.upu.int/en/Universal-Postal-Union/About-UPU/Member-Countries) and
the large parcel, express and e-commerce couriers of each region, each at the domain its own
tracking page uses. A query value on any of them is still read by the contact rules: an
address or phone number there goes, the path stays.
"""

from __future__ import annotations

import re

# International express and e-commerce logistics.
_GLOBAL = (
    "ups.com", "fedex.com", "dhl.com", "tnt.com", "aramex.com", "dpd.com", "gls-group.eu",
    "gls-group.com", "parcelsapp.com", "17track.net", "track-trace.com",
    "cainiao.com", "global.cainiao.com", "yunexpress.com", "4px.com", "sf-express.com",
    "sfexpress.com", "jtexpress.com", "jet.co.id", "ninjavan.co", "dhlecommerce.com",
    "asendia.com", "landmarkglobal.com", "ecmsglobal.com", "skynetworldwide.com",
    "spring-gds.com", "shipbob.com", "easypost.com", "shippo.com", "pitneybowes.com",
    "ontrac.com", "lasership.com", "purolator.com", "canpar.com", "loomis-express.com",
    "dicom.com", "intelcom.ca", "dhl.de", "dhl.nl", "dhl.fr", "dhl.es", "dhl.it", "dhl.co.uk",
    "dhl.se", "dhl.pl", "dhl.at", "dhl.ch", "dhl.be", "dhl.cz", "dhl.hu", "dhl.ro", "dhl.gr",
    "dhl.co.jp", "dhl.com.cn", "dhl.co.kr", "dhl.com.au", "dhl.co.in", "dhl.com.mx",
    "dhl.com.br", "dhl.com.tr", "dhl.ru", "dhl.co.il", "dhl.co.th", "dhl.com.vn",
    "dhl.co.id", "dhl.com.sg", "dhl.com.my", "dhl.com.ph", "dhl.ae", "dhl.com.sa",
    "dhl.co.za", "dhl.dk", "dhl.fi", "dhl.no", "dhl.pt", "dhl.ie", "dhl.sk", "dhl.bg",
    "dhl.hr", "dhl.si", "dhl.lt", "dhl.lv", "dhl.ee", "dhl.ua", "dhl.com.ar", "dhl.cl",
    "dhl.com.co", "dhl.com.pe", "dhl.co.nz",
)
# Europe: national posts (UPU designated operators) and their parcel companies, couriers.
_EUROPE = (
    "royalmail.com", "parcelforce.com", "evri.com", "myhermes.co.uk", "yodel.co.uk",
    "dpd.co.uk", "dpdlocal.co.uk", "apc-overnight.com", "dx.co.uk", "collectplus.co.uk",
    "deutschepost.de", "dhl.de", "dpd.de", "myhermes.de", "hermesworld.com", "hermes-europe.co.uk",
    "gls-pakete.de", "paket.de", "post.at", "dpd.at", "post.ch", "swisspost.ch", "dpd.ch",
    "laposte.fr", "colissimo.fr", "chronopost.fr", "dpd.fr", "mondialrelay.fr",
    "mondialrelay.com", "relaiscolis.com", "colisprive.com", "gls-france.com", "geodis.com",
    # Pallet and freight forwarders that deliver furniture to homes
    "dbschenker.com", "raben-group.com", "myraben.com", "dachser.com", "kuehne-nagel.com",
    # Found missing by a training set (corpus14u): national home-delivery and e-commerce arms
    "dhlecommerce.nl", "dhlparcel.com", "helthjem.no", "expressone.si", "tipaxco.com",
    "ethiopost.et", "dpdgroup.com", "jtexpress.com.kh", "jtexpress.co.th", "jtexpress.ph",
    "jtexpress.my", "jtexpress.vn", "jtexpress.sg",
    "postnl.nl", "postnl.be", "dpd.nl", "gls-info.nl", "dhlparcel.nl", "bpost.be", "bpost.cloud",
    "bpost.com", "dpd.be", "post.lu", "anpost.com", "fastway.ie", "dpd.ie", "nightline.ie",
    "correos.es", "correosexpress.com", "seur.com", "mrw.es", "nacex.es", "gls-spain.es",
    "envialia.com", "tipsa.com", "ctt.pt", "cttexpress.com", "dpd.pt", "poste.it",
    "posteitaliane.it", "brt.it", "sda.it", "gls-italy.com", "nexive.it", "tntitaly.it",
    "postnord.se", "postnord.dk", "postnord.no", "postnord.fi", "postnord.com",
    "bring.no", "bring.se", "bring.dk", "bring.com", "posten.no", "posten.se",
    "airmee.com", "budbee.com", "instabox.se", "posti.fi", "matkahuolto.fi", "pakettikauppa.fi",
    "dao.as", "gls.dk", "postur.is", "posturinn.is", "inpost.pl", "inpost.eu", "inpost.co.uk",
    "inpost.it", "posta-romana.ro",
    "inpost.es", "inpost.fr", "pocztex.pl", "poczta-polska.pl", "dpd.com.pl", "gls-poland.com",
    "dhlparcel.pl", "orlenpaczka.pl", "postaonline.cz", "ceskaposta.cz", "ppl.cz", "dpd.cz",
    "gls-czech.com", "zasilkovna.cz", "packeta.com", "balikovna.cz", "posta.sk", "dpd.sk",
    "gls-slovakia.sk", "posta.hu", "mpl.hu", "gls-hungary.com", "dpd.hu", "foxpost.hu",
    "expressone.hu", "posta.ro", "fancourier.ro", "sameday.ro", "cargus.ro", "urgentcargus.ro",
    "dpd.ro", "gls-romania.ro", "nemoexpress.ro", "bgpost.bg", "econt.com", "speedy.bg",
    "posta.hr", "hp.hr", "overseas.hr", "posta.si", "posta.rs", "postexpress.rs", "dexpress.rs",
    "posta.ba", "posta.me", "posta.com.mk", "postashqiptare.al", "elta.gr", "elta-courier.gr",
    "acscourier.net", "geniki.gr", "taxydromiki.com", "speedex.gr",
    "cypruspost.post", "maltapost.com", "posta.md", "novaposhta.ua",
    "ukrposhta.ua", "meest.com", "meest-express.com.ua", "justin.ua", "pochta.ru", "cdek.ru",
    "cdek.kz", "boxberry.ru", "dpd.ru", "pecom.ru", "dellin.ru", "ponyexpress.ru",
    "5post.ru", "belpost.by", "europost.by", "kazpost.kz", "post.kz", "omniva.ee",
    "omniva.lv", "omniva.lt", "post.lt", "lpexpress.lt", "pasts.lv", "dpd.lt", "dpd.lv",
    "dpd.ee", "venipak.lt",
    "itella.ee", "smartpost.ee", "georgianpost.ge", "gpost.ge", "dropp.is", "haypost.am",
    "azerpost.az",
)
# The Americas.
_AMERICAS = (
    "usps.com", "ups.com", "fedex.com", "ontrac.com", "gls-us.com",
    "canadapost-postescanada.ca", "canadapost.ca", "postescanada.ca", "purolator.com",
    "correosdemexico.gob.mx", "correosdemexico.com.mx", "estafeta.com", "redpack.com.mx",
    "paquetexpress.com.mx", "99minutos.com", "jtexpress.mx", "correios.com.br",
    "jadlog.com.br", "totalexpress.com.br", "loggi.com", "braspress.com", "correoargentino.com.ar",
    "andreani.com", "oca.com.ar", "correos.cl", "chilexpress.cl", "starken.cl", "bluex.cl",
    "4-72.com.co", "servientrega.com", "interrapidisimo.com", "coordinadora.com",
    "envia.co", "serpost.com.pe", "olva.com.pe", "shalom.pe", "correo.com.uy", "dac.com.uy",
    "correosdelecuador.gob.ec", "servientrega.com.ec", "ipostel.gob.ve", "mrw.com.ve",
    "correosbolivia.com", "correoparaguayo.gov.py", "correos.go.cr", "correos.gob.gt",
    "cargoexpreso.com", "correos.gob.sv", "correoshonduras.hn", "correosdenicaragua.com.ni",
    "correospanama.gob.pa", "inposdom.gob.do", "correos.cu", "jamaicapost.gov.jm",
    "ttpost.net",
)
# Asia and the Pacific.
_ASIA_PACIFIC = (
    "japanpost.jp", "post.japanpost.jp", "kuronekoyamato.co.jp", "yamato-hd.co.jp",
    "sagawa-exp.co.jp", "seino.co.jp", "fukutsu.co.jp", "nittsu.co.jp", "epost.go.kr",
    "koreapost.go.kr", "cjlogistics.com", "hanjin.com", "hanjin.co.kr", "lotteglogis.com",
    "ilogen.com", "kdexp.com", "ems.com.cn", "chinapost.com.cn", "11183.com.cn", "sf-express.com",
    "zto.com", "yto.net.cn", "sto.cn", "yundaex.com", "jdl.com", "best-inc.com",
    "deppon.com", "kuaidi100.com", "hongkongpost.hk", "sf-express.com.hk", "macaupost.gov.mo",
    "post.gov.tw", "t-cat.com.tw", "hct.com.tw", "kerrytj.com", "indiapost.gov.in",
    "bluedart.com", "delhivery.com", "dtdc.in", "dtdc.com", "ecomexpress.in", "xpressbees.com",
    "shadowfax.in", "ekartlogistics.com", "shiprocket.in", "professionalcouriers.net",
    "pakpost.gov.pk", "tcsexpress.com", "leopardscourier.com", "bdpost.gov.bd",
    "slpost.gov.lk", "nepalpost.gov.np", "thailandpost.co.th", "thailandpost.com",
    "flashexpress.co.th", "flashexpress.com", "th.kerryexpress.com", "kerryexpress.com",
    "kex-express.com", "jtexpress.co.th", "scgexpress.co.th", "bestexpress.co.th",
    "nimexpress.com", "vnpost.vn", "ems.com.vn", "viettelpost.com.vn", "ghn.vn", "ghtk.vn",
    "jtexpress.vn", "ninjavan.co", "bestexpress.vn", "giaohangtietkiem.vn", "spx.vn",
    "ahamove.com", "redx.com.bd", "pathao.com", "steadfast.com.bd", "ecourier.com.bd",
    "paperfly.com.bd", "trax.pk", "postex.pk", "mulphilog.com", "callcourier.com.pk",
    "blue-ex.com", "nepalcanmove.com", "spx.co.id", "spx.co.th", "spx.ph", "spx.com.my",
    "posindonesia.co.id", "jne.co.id",
    "tiki.id", "sicepat.com", "anteraja.id", "jet.co.id", "lionparcel.com", "wahana.com",
    "ninjaxpress.co", "pos.com.my", "poslaju.com.my", "gdexpress.com", "citylinkexpress.com",
    "jtexpress.my", "singpost.com", "speedpost.com.sg", "qxpress.net", "phlpost.gov.ph",
    "lbcexpress.com", "2go.com.ph", "jtexpress.ph", "entrego.com.ph", "mypost.gov.mm",
    "cambodiapost.post", "laopostapl.com", "laopost.com.la", "prontolanka.lk", "mongolpost.mn",
    "pochta.uz", "kyrgyzpost.kg",
    "olvacourier.com",
    "auspost.com.au",
    "startrack.com.au", "couriersplease.com.au", "aramex.com.au", "sendle.com", "tollgroup.com",
    "nzpost.co.nz", "courierpost.co.nz", "nzcouriers.co.nz", "postfiji.com.fj",
)
# The Middle East and Africa.
_MIDDLE_EAST_AFRICA = (
    "israelpost.co.il", "postil.co.il", "hfd.co.il", "ptt.gov.tr", "yurticikargo.com",
    "araskargo.com.tr", "mngkargo.com.tr", "suratkargo.com.tr", "ups.com.tr", "hepsijet.com",
    "trendyolexpress.com", "emiratespost.ae", "epg.gov.ae", "aramex.ae", "smsaexpress.com",
    "splonline.com.sa", "naqelexpress.com", "qatarpost.qa", "omanpost.om",
    "kuwaitpost.com.kw", "jordanpost.com.jo", "libanpost.com", "egyptpost.org", "bosta.co",
    "iraqpost.iq", "post.ir", "tipax.ir", "afghanpost.gov.af", "poste.ma", "amana.ma",
    "poste.tn", "poste.dz", "ethiopostal.com", "posta.co.ke", "g4s.co.ke", "sendy.co.ke",
    "postcorp.co.za", "postoffice.co.za", "pudo.co.za", "aramex.co.za", "thecourierguy.co.za",
    "fastway.co.za", "pargo.co.za",
    "dsv.com", "nipost.gov.ng", "gigl-go.com", "giglogistics.com", "barid.ma",
    "ghanapost.com.gh", "posta.co.tz",
    "ugapost.co.ug", "zampost.com.zm", "zimpost.co.zw", "botspost.co.bw", "nampost.com.na",
    "laposte.sn", "sonapost.bf", "mauritiuspost.mu", "paxi.co.za",
)
CARRIER_HOSTS: tuple[str, ...] = tuple(dict.fromkeys(
    _GLOBAL + _EUROPE + _AMERICAS + _ASIA_PACIFIC + _MIDDLE_EAST_AFRICA))

# The carriers' names as a message writes them before a shipment number ("Purolator
# 329012345678", "FAN Courier 2345678901", "Нова пошта 20450123456789"): each domain's name
# above, and the brands written as words. A generic word or a first name among the domains'
# names is left out ("justin", "shalom", "correo", "envia", "overseas").
_NOT_NAMES = frozenset({"justin", "shalom", "correo", "envia", "overseas", "bring", "sendy",
                        "dicom", "best-inc", "paket", "epost", "track-trace", "11183", "4-72",
                        "17track", "parcelsapp", "shipbob", "shippo", "easypost", "mypost"})
_WRITTEN = (
    "royal mail", "canada post", "postes canada", "australia post", "nz post", "india post",
    "speed post", "blue dart", "fan courier", "flash express", "kerry express", "thailand post",
    "magyar posta", "česká pošta", "ceska posta", "slovenská pošta", "poșta română",
    "posta romana", "israel post", "דואר ישראל", "nova poshta", "нова пошта", "укрпошта",
    "почта россии", "сдэк", "boxberry", "белпочта", "казпочта", "ελτα", "elta courier",
    "acs courier", "geniki taxydromiki", "γενική ταχυδρομική", "speedex", "j&t", "j&t express",
    "ninja van", "viettel post", "giao hàng nhanh", "giao hàng tiết kiệm", "vietnam post",
    "pos indonesia", "pos laju", "pos malaysia", "poste italiane", "deutsche post", "la poste",
    "post nl", "swiss post", "die post", "österreichische post", "poczta polska", "ppl",
    "packeta", "gls", "dpd", "mpl", "jne", "sicepat", "anteraja", "smsa", "naqel", "spl",
    "emirates post", "saudi post", "egypt post", "aramex", "yamato", "sagawa", "japan post",
    "korea post", "우체국", "cj대한통운", "china post", "中国邮政", "顺丰", "sf express",
    "correos de méxico", "correos de mexico", "estafeta", "redpack", "paquetexpress",
    "correios", "correo argentino", "servientrega", "ups", "fedex", "usps", "dhl", "tnt",
    "hermes", "evri", "yodel", "posti", "postnord", "posten", "bring", "budbee", "dao",
    "omniva", "itella", "matkahuolto", "ptt", "yurtiçi kargo", "aras kargo", "mng kargo",
    "sürat kargo", "econt", "speedy", "sameday", "cargus", "urgent cargus", "foxpost",
    "express one", "zásilkovna", "balíkovna", "inpost", "pocztex", "orlen paczka",
)


def _domain_names() -> set[str]:
    names = set()
    for host in CARRIER_HOSTS:
        labels = host.split(".")
        name = labels[1] if labels[0] in ("www", "global", "post", "th", "donhang") else labels[0]
        if len(name) >= 4 and name not in _NOT_NAMES:
            names.add(name)
    return names


CARRIER_NAMES: frozenset[str] = frozenset(_domain_names() | set(_WRITTEN))


# A postal item's number (UPU S10, "RR204819330TW") or a UPS one ("1Z999AA10123456784"):
# whatever word stands before it ("Royal Mail: AB123456789GB"), no one's address or handle.
SHIPMENT_NUMBER = re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}|1Z[0-9A-Z]{16}")
