"""contact.address: a meeting proposed to pay in cash, off the platform: "Or we meet at the
Wimpy by the Engen on the N1, Saturday 10:00, and I pay cash", "шимтгэл төлөхгүйн тулд ...
салбарын урд уулзаад бэлнээр өгье", "Ẹ jẹ́ ká pàdé ní Ọjà Bódìjà, màá san owó lọ́wọ́".

A public place is no one's address, and the address rule keeps it (a parcel at the post
office, a pickup point in a mall). Proposing to meet there and hand over cash is another
matter: it is the way off the platform's payment, its record and its protection, and the
place is where the two meet. The sentence that says both, to meet and to pay in cash, goes
whole; a meeting without cash (a pickup slot, viewing a sofa) and cash without a meeting (cash
on delivery to the courier) stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from relay.rules.contact_model import sentences
from relay.rules.needs import Gated
from relay.rules.view import folded

# To meet, in the languages the rules read (stems: the verb's forms follow).
_MEET_WORDS = re.compile(folded(
    r"(?i)(?<!\w)(?:meet(?:s|ing)?|meet\s+up|meetup|treff(?:en|e|t)|ontmoet\w*|afspreken|"
    r"übergabe|hand\s?over|handover|overdracht|överlämning|overlevering|předání|"
    r"odovzdan\w*|átadás\w*|predaj\w*|primopredaj\w*|nađemo|nadjemo|"
    r"rencontr\w*|retrouv\w*|rendez-vous|quedamos|quedar|quedemos|encontr\w*|nos\s+vemos|"
    r"vediamoci|incontr\w*|ci\s+vediamo|spotka\w*|setk\w*|sejdeme|stretn\w*|találkoz\w*|"
    r"tapaa\w*|tavata|träffa\w*|träffas|møtes|mødes|møde|mødes|hittas|întâlni\w*|vedem|"
    r"συναντ\w*|nađemo|naći\s+se|vidimo\s+se|sastan\w*|dobimo\s+se|srečava\w*|susitik\w*|"
    r"satiek\w*|kohtu\w*|takoh\w*|buluş\w*|görüş\w*|görüşək|uchrash\w*|кездес\w*|"
    r"встрет\w*|встреч\w*|зустр\w*|сустр\w*|среща\w*|срещн\w*|састан\w*|уулз\w*|"
    r"pàdé|hadu|haɗu|zute|hlangan\w*|sihlangane|sidibane|duhur\w*|kulan\w*|tukutane|kutana|"
    r"hihaona|cyfarf\w*|cwrdd|buail\w*|niltaqgħu|elkartu|quedem|trobem|ketemu\w*|ketemuan|"
    r"jumpa|berjumpa|magkita|kita\s+tayo|gặp|gap\s+nhau|hẹn|"
    r"נפגש\w*|ניפגש|להיפגש|نلتقي|نتقابل|نشوف\w*|بنتقابل|ببینیم|ملاقات|ملتے|ملیں|मिलते|मिलें|"
    r"मिलिए|भेट\w*|দেখা\s+কর\w*|ਮਿਲ\w*|મળીએ|மீட்|சந்திக்க\w*|కలుద్దాం|కలవ\w*|ಭೇಟಿ|"
    r"കാണാം|හමුවෙමු|እንገናኝ|ተገናኝ\w*|შევხვდეთ|შეხვედრ\w*|հանդիպ\w*)(?!\w)"
    r"|見面|见面|碰面|面交|会いましょう|会おう|待ち合わせ|만나\w*|만날|เจอกัน|พบกัน|นัดเจอ|"
    r"တွေ့|ជួប|ພົບ|ພໍ້"))
_MEET = Gated(_MEET_WORDS)  # most texts hold none of its words: the scan is then skipped
# Cash, in hand.
_CASH = re.compile(folded(
    r"(?i)(?<!\w)(?:cash(?!\s?(?:machine|point|desk|register|dispenser|counter|back|on\s+delivery))|contant\w*|kontant\w*|bargeld|in\s+bar|bar\s+(?:bezahlen|"
    r"zahlen|geben)|zahl\w*\s+bar|bar\s+(?:in|auf)\s+die\s+hand|bar\s+bei|"
    r"(?:zahlung|bezahlung)\s+(?:gern\w*\s+|nur\s+|einfach\s+)?bar|efectivo|espèces|en\s+liquide|contanti|dinheiro|gotówk\w*|hotovost\w*|hotovos\w*|készpénz\w*|käteis\w*|sularaha|"
    r"nakit|peşin|nağd\w*|naqd\w*|наличн\w*|налик\w*|готівк\w*|наяўн\w*|бэлнээр|бэлэн|"
    r"кеш|кэш|в\s+руки|на\s+руки|в\s+брой|в\s+готовина|gotovin\w*|готовин\w*|numerar|"
    r"μετρητά|tunai|tiền\s+mặt|pesa\s+taslimu|taslimu|owó|lọ́wọ́|kuɗi|ego\s+n'aka|imali|"
    r"lacag|arian\s+parod|airgead\s+tirim|flus\s+kontanti|grynais\w*|skaidrā|skaidr\w+\s+naud\w*|"
    r"pouzeć\w*|pouzeċ\w*|para\s+në\s+dorë|"
    r"מזומן\w*|نقد\w*|نقدا|نقدًا|كاش|کاش|نقدی|नकद|नगद|रोख|कैश|नगदै|নগদ|ਨਕਦ|રોકડ|"
    r"ரொக்க\w*|నగదు|ನಗದು|പണമായി|මුදල්|ጥሬ\s+ገንዘብ|ნაღდ\w*|կանխիկ)(?!\w)"
    r"|现金|現金|現ナマ|현금|เงินสด|ငွေသား|សាច់ប្រាក់|ເງິນສົດ"))


class MeetingRule:
    code = "contact.address"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if not _MEET.search(text) or not _CASH.search(text):
            return
        for start, end in sentences(text):
            if _MEET_WORDS.search(text, start, end) and _CASH.search(text, start, end):
                yield start, end
