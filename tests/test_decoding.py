"""Decoding defects from the encoding audit, through the paths a user's input takes: a file
through `read_file` (what `newsflow ingest` calls) and a page through `decode_body` then
`fetch_results_to_batch` (what the web source keeps).

1. Legacy single-byte text with no declaration was decoded by the wrong code page (French
   windows-1252 as cp775: "sauvķ", "dķbut"); a table of languages and code pages checks each
   decodes to the very text written, both paths.
2. UTF-16 without a BOM (LE and BE) failed as binary; real binary still fails.
3. A NUL after the first 8 KB reached the stored text; a NUL near the start is binary.
4. One stray byte in a UTF-8 page (declared or not) sent the whole text to detection, which
   stored it as windows-1252 mojibake ("AuÃŸenminister"); it stays UTF-8 with one U+FFFD.
"""

from __future__ import annotations

import gzip
import json
import struct

import pytest

from tasks.sources import files
from tasks.sources.content import ReadError
from tasks.sources.fetch import FetchResult, decode_body
from tasks.sources.files import decode_bytes, read_file
from tasks.sources.web import fetch_results_to_batch

pytestmark = pytest.mark.unit

# Our own sentences, a title and two paragraphs each (short texts are where detectors guess).
SAMPLES = {
"fr": ("cp1252", """« Le marché couvert de Montréal-sur-Loire rouvre après deux ans de travaux »

Samedi matin, les premiers clients se pressaient déjà devant les étals du marché couvert, fermé depuis l'été dernier. « On a attendu ce moment pendant des mois », confie Hélène Garçon, maraîchère depuis vingt-cinq ans. La façade en brique a été restaurée à l'identique, et la charpente métallique du XIXe siècle, rongée par la rouille, a été entièrement traitée.

Le chantier a coûté 4,2 millions d'euros – soit près de 800 000 € de plus que prévu. Le maire a reconnu un dépassement « regrettable mais inévitable » : il a fallu renforcer les fondations, découvertes très abîmées. Les commerçants, eux, se réjouissent surtout du nouveau système de chauffage. « L'hiver, on gelait ici ; à présent, c'est un vrai plaisir de travailler », sourit un boucher, qui préfère garder l'anonymat. Prochaine étape : une fête de quartier prévue à la mi-août, avec concerts et dégustations de fromages régionaux."""),
"de": ("cp1252", """Stadtrat beschließt neues Radwegenetz für die Innenstadt

Nach monatelangen Diskussionen hat der Stadtrat am Donnerstagabend mit großer Mehrheit ein neues Radwegenetz beschlossen. Künftig sollen auf allen Hauptstraßen geschützte Fahrradspuren entstehen, die durch Poller vom Autoverkehr getrennt sind. „Wir wollen, dass sich auch Kinder und ältere Menschen sicher fühlen“, sagte die Bürgermeisterin.

Die Kosten von rund zwölf Millionen Euro übernimmt zum größten Teil das Land. Kritik kam vor allem von Händlern in der Fußgängerzone, die den Wegfall von Parkplätzen fürchten. Ein Gutachten soll bis zum Frühjahr klären, wie Lieferverkehr und Anwohnerparken künftig geregelt werden. Die ersten Straßen werden voraussichtlich im Spätsommer umgebaut."""),
"es": ("cp1252", """La sequía obliga a restringir el riego en los campos del sur

El Gobierno regional anunció el martes nuevas restricciones al uso del agua para la agricultura, tras el invierno más seco de las últimas tres décadas. Los embalses se encuentran al veintiocho por ciento de su capacidad, según los datos oficiales publicados esta mañana.

«¿Cómo vamos a sacar adelante la cosecha así?», se preguntaba un agricultor de olivos en la plaza del pueblo. Las asociaciones del sector piden ayudas urgentes y una reducción de impuestos. El consejero de Medio Ambiente aseguró que el abastecimiento a los hogares está garantizado hasta el otoño, pero no descartó cortes nocturnos si no llueve en las próximas semanas. ¡Ojalá cambie pronto el tiempo!, repetían los vecinos."""),
"pt": ("cp1252", """Câmara aprova orçamento para renovação das escolas públicas

A câmara municipal aprovou na sexta-feira um orçamento de três milhões de euros para a renovação de onze escolas do concelho. As obras, que começarão em junho, incluem a substituição das coberturas, a instalação de painéis solares e a melhoria do isolamento térmico das salas de aula.

A vereadora da educação explicou que a decisão responde a queixas antigas de pais e professores, sobretudo no inverno, quando as salas ficavam demasiado frias. Os trabalhos serão feitos por fases, para não interromper as aulas, e deverão estar concluídos até ao fim do próximo ano letivo. A oposição votou a favor, mas pediu mais transparência na escolha das empresas."""),
"it": ("cp1252", """Il comune riapre il ponte storico dopo tre anni di lavori

Dopo tre anni di cantiere, il ponte medievale che collega le due sponde del fiume è stato riaperto ai pedoni e alle biciclette. Alla cerimonia di lunedì hanno partecipato il sindaco, le autorità regionali e centinaia di cittadini, che hanno attraversato la struttura tra gli applausi.

«È un giorno di festa per tutta la città», ha dichiarato il sindaco, ricordando che i lavori sono costati più del previsto a causa delle piene dell'autunno. Gli ingegneri hanno consolidato le arcate e sostituito la pavimentazione in pietra. Perché il ponte resti sicuro, il traffico delle auto non sarà più consentito: una scelta che però non è piaciuta a tutti i commercianti della zona."""),
"pl": ("cp1250", """Rada miasta przyjęła plan budowy nowej linii tramwajowej

W czwartek radni zdecydowali o budowie nowej linii tramwajowej, która połączy dworzec główny z osiedlami na północy miasta. Inwestycja ma kosztować około czterystu milionów złotych, a pierwsze prace ruszą jesienią przyszłego roku. Mieszkańcy od dawna skarżyli się na zatłoczone autobusy i korki na głównych ulicach.

Prezydent miasta podkreślił, że część pieniędzy pochodzi z funduszy europejskich. Przeciwnicy projektu obawiają się jednak wycinki drzew wzdłuż trasy i hałasu w pobliżu szkół. Urzędnicy zapewniają, że za każde ścięte drzewo posadzą dwa nowe, a torowisko zostanie wyciszone specjalną matą. Żółte wagony mają wyjechać na tory za cztery lata."""),
"cs": ("cp1250", """Město opraví historické náměstí a vysadí nové stromy

Zastupitelé ve středu schválili rekonstrukci hlavního náměstí, která začne příští jaro. Dlažba bude vyměněna, kašna opravena a podél domů přibude dvacet nových stromů, které mají v létě přinést stín. Práce potrvají přibližně osmnáct měsíců a budou rozděleny do tří etap.

Obchodníci se obávají, že během stavby přijdou o zákazníky. Radnice proto slíbila, že vchody do obchodů zůstanou přístupné a že trhy se přesunou do vedlejší ulice. Celková cena opravy dosáhne sto dvaceti milionů korun, z nichž většinu zaplatí kraj. Občané mohou své připomínky posílat až do konce měsíce."""),
"ru": ("cp1251", """Городские власти открыли новый парк на берегу реки

В субботу в городе открылся новый парк на месте бывшей промышленной зоны. На территории высадили более тысячи деревьев, проложили велосипедные дорожки и построили детские площадки. Жители соседних кварталов давно просили благоустроить заброшенный берег.

По словам мэра, работы обошлись бюджету в триста миллионов рублей. Часть средств выделил областной фонд. В ближайшие месяцы в парке появятся кафе, лодочная станция и летняя сцена для концертов. Экологи, однако, предупреждают, что почву на участке нужно проверить ещё раз, прежде чем разрешать там пикники."""),
"ru-koi8": ("koi8_r", """Областная больница получила новое оборудование

На этой неделе в областную больницу поступили два современных томографа и аппарат для диагностики сердца. Главный врач рассказал, что очередь на обследование теперь сократится в несколько раз, а пациентам из дальних районов больше не придётся ехать в столицу.

Оборудование закупили на средства федеральной программы. Врачи уже прошли обучение, и первые пациенты пройдут обследование в понедельник. В следующем году больница планирует открыть отделение реабилитации и нанять ещё двадцать медсестёр."""),
"el": ("cp1253", """Ο δήμος ανακοίνωσε νέο πρόγραμμα ανακύκλωσης

Ο δήμος της πόλης παρουσίασε την Τρίτη ένα νέο πρόγραμμα ανακύκλωσης, που θα ξεκινήσει τον επόμενο μήνα σε όλες τις γειτονιές. Κάθε νοικοκυριό θα λάβει δωρεάν κάδους για το χαρτί, το γυαλί και τα οργανικά απορρίμματα.

Ο δήμαρχος δήλωσε ότι στόχος είναι να μειωθούν κατά το ήμισυ τα σκουπίδια που καταλήγουν στη χωματερή μέσα σε τρία χρόνια. Οι κάτοικοι μπορούν να ενημερωθούν για το πρόγραμμα στα γραφεία του δήμου ή στην ιστοσελίδα του."""),
"tr": ("cp1254", """Belediye şehir merkezine yeni otopark inşa edecek

Belediye meclisi çarşamba günü yaptığı toplantıda, şehir merkezindeki trafik sorununu çözmek için yeni bir katlı otopark yapılmasına karar verdi. Yaklaşık dört yüz aracın park edebileceği tesisin gelecek yıl açılması planlanıyor.

Belediye başkanı, projenin ilçedeki esnafı da rahatlatacağını söyledi. Ancak bazı mahalle sakinleri, inşaat sırasında gürültü ve toz olacağından şikâyet ediyor. İnşaatın ilk aşamasında eski pazar yeri yıkılacak ve çevredeki ağaçlar başka bir parka taşınacak. Işıklandırma ve güvenlik kameraları için ayrıca ödenek ayrıldı."""),
}

FRENCH = SAMPLES["fr"][1]
# the audit's shape: guillemets first, curly quotes, en dash and euro sign last
AUDIT_FRENCH = "« " + FRENCH + " » – “quoted” €"


def _variants():
    for lang, (encoding, text) in SAMPLES.items():
        title, first, *_ = text.split("\n\n")
        yield pytest.param(encoding, text, id=f"{lang}-{encoding}-full")
        yield pytest.param(encoding, f"{title}\n\n{first}", id=f"{lang}-{encoding}-short")


def _read(tmp_path, data: bytes, name: str = "article.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return read_file(path, max_bytes=10_000_000)


def _page(body: bytes, content_type: str = "text/plain"):
    text, encoding = decode_body(body, content_type)
    result = FetchResult(url="http://news.example/a", final_url="http://news.example/a", status=200, ok=True,
                         content_type=content_type, encoding=encoding, body=body, text=text, content_sha256="x")
    return fetch_results_to_batch([result])


def _stored(tmp_path, data: bytes):
    docs, failures = _read(tmp_path, data)
    assert failures == [] and len(docs) == 1, failures
    return docs[0]


# --- 1. legacy code pages -------------------------------------------------------------------

@pytest.mark.parametrize("encoding, text", list(_variants()))
def test_legacy_code_pages_decode_to_the_text_written(tmp_path, encoding, text):
    data = text.encode(encoding)
    doc = _stored(tmp_path, data)
    assert doc.raw_text == text, (doc.encoding, doc.raw_text[:120])
    web_text, web_encoding = decode_body(data, "text/plain")
    assert web_text == text, (web_encoding, web_text[:120])
    if encoding == "cp1252":  # a tie among code pages giving the same text is named windows-1252
        assert doc.encoding == web_encoding == "cp1252"


def test_audit_french_windows_1252_is_not_mojibake(tmp_path):
    data = AUDIT_FRENCH.encode("cp1252")
    doc = _stored(tmp_path, data)
    assert (doc.encoding, doc.raw_text) == ("cp1252", AUDIT_FRENCH)
    assert "ķ" not in doc.raw_text and "après" in doc.raw_text and "800 000 €" in doc.raw_text
    batch = _page(data)
    assert batch.failures == [] and batch.docs[0].encoding == "cp1252"
    assert batch.docs[0].raw_text == AUDIT_FRENCH
    # only the opening guillemet (the audit's iso8859_14 case)
    data = ("« " + FRENCH).encode("cp1252")
    assert decode_bytes(data) == ("« " + FRENCH, "cp1252") == decode_body(data, "text/plain")


def test_without_chardet_windows_1252_still_wins_ties(tmp_path, monkeypatch):
    """chardet >= 7 is used when installed; without it, the whole-sample rescoring alone
    must still read the audit's French as windows-1252."""
    monkeypatch.setattr(files, "_chardet_guess", lambda data: None, raising=False)
    data = AUDIT_FRENCH.encode("cp1252")
    assert decode_bytes(data) == (AUDIT_FRENCH, "cp1252")
    assert decode_body(data, "text/plain") == (AUDIT_FRENCH, "cp1252")


def test_random_high_bytes_stay_undecodable():
    import random

    rng = random.Random(5)
    data = bytes(rng.randint(0x80, 0xFF) for _ in range(20_000))
    with pytest.raises(ReadError) as err:
        decode_bytes(data)
    assert err.value.reason == "undecodable"


# --- 2. UTF-16 without a BOM --------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [
    SAMPLES["de"][1], SAMPLES["ru"][1], "Breaking: Café reopens.\n\nThe café, closed in 2023, reopened on Monday.",
], ids=["german", "russian", "short"])
def test_utf16_without_bom_is_text(tmp_path, encoding, text):
    data = text.encode(encoding)  # no BOM
    assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    doc = _stored(tmp_path, data)
    assert (doc.encoding, doc.raw_text) == (encoding, text)
    batch = _page(data)
    assert batch.failures == [] and (batch.docs[0].encoding, batch.docs[0].raw_text) == (encoding, text)
    # a wrong label does not win over the bytes
    assert decode_body(data, "text/plain; charset=utf-8") == (text, encoding)


def _int16_samples() -> bytes:  # small little-endian numbers: a NUL in every high byte, but no text
    return b"".join(struct.pack("<h", (i * 7) % 30) for i in range(4000))


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n" + "Le café".encode("utf-16-le") * 200,
    b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + "A\x00".encode() * 500,
    gzip.compress(("The harbour reopened. " * 500).encode("utf-16-le")),
    _int16_samples(),
], ids=["pdf", "png", "gzip", "int16-array"])
def test_binary_is_still_binary(tmp_path, data):
    docs, failures = _read(tmp_path, data)
    assert docs == [] and [f.reason for f in failures] == ["binary"]
    batch = _page(data, "text/html")
    assert batch.docs == [] and [f.reason for f in batch.failures] == ["binary"]


# --- 3. NUL bytes ----------------------------------------------------------------------------------

def _text_of(size: int) -> str:
    paragraph = ("The council met on Tuesday and approved the budget for the new bridge, officials said. "
                 "Work will begin in spring and last about two years.\n\n")
    return "Council approves bridge budget\n\n" + paragraph * (size // len(paragraph) + 1)


@pytest.mark.parametrize("offset", [24 * 1024, 200 * 1024])
def test_stray_nul_after_a_text_start_is_dropped(tmp_path, offset):
    text = _text_of(offset + 5000)
    data = text.encode()[:offset] + b"\x00" + text.encode()[offset:]
    doc = _stored(tmp_path, data)
    assert "\x00" not in doc.raw_text and doc.raw_text == text
    batch = _page(data)
    assert batch.failures == [] and batch.docs[0].raw_text == text


def test_stray_nuls_in_windows_1252_text_are_dropped(tmp_path):
    text = _text_of(20_000).replace("bridge", "pont café")
    data = text.encode("cp1252")
    data = data[:12_000] + b"\x00\x00" + data[12_000:]
    doc = _stored(tmp_path, data)
    assert (doc.encoding, doc.raw_text) == ("cp1252", text)
    assert decode_body(data, "text/plain") == (text, "cp1252")


def test_nul_near_the_start_is_binary_on_both_paths(tmp_path):
    text = _text_of(30_000).encode()
    data = text[:200] + b"\x00" + text[200:]
    docs, failures = _read(tmp_path, data)
    assert docs == [] and [f.reason for f in failures] == ["binary"]
    batch = _page(data)
    assert batch.docs == [] and [f.reason for f in batch.failures] == ["binary"]


def test_no_nul_from_wide_encodings_or_json_escapes(tmp_path):
    text = "Flood warning\n\nThe river rose\x00 overnight, officials said."
    for data in (text.encode("utf-16"), text.encode("utf-16-le"), text.encode("utf-32")):
        doc = _stored(tmp_path, data)
        assert doc.raw_text == text.replace("\x00", "")
    record = {"title": "Flood\u0000 warning", "text": "The river rose\u0000 overnight, officials said."}
    docs, failures = _read(tmp_path, json.dumps(record).encode(), "dump.json")
    assert failures == [] and docs[0].raw_text == "The river rose overnight, officials said."
    assert docs[0].meta["title"] == "Flood warning"


# --- 4. UTF-8 with a stray byte ----------------------------------------------------------------

@pytest.mark.parametrize("language", ["de", "ru", "fr"])
@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/plain"])
def test_a_stray_byte_keeps_a_utf8_page_utf8(tmp_path, language, content_type):
    text = SAMPLES[language][1]
    cut = len(text) // 2
    data = text[:cut].encode() + b"\xe9" + text[cut:].encode()
    expected = text[:cut] + "\ufffd" + text[cut:]
    assert decode_body(data, content_type) == (expected, "utf-8")
    doc = _stored(tmp_path, data)
    assert (doc.encoding, doc.raw_text) == ("utf-8", expected)


def test_legacy_text_labelled_utf8_is_still_detected():
    """A windows-1252 page that says utf-8: nearly every non-ASCII byte is invalid UTF-8, so
    the label is wrong, not the bytes; detection reads it."""
    data = AUDIT_FRENCH.encode("cp1252")
    assert decode_body(data, "text/html; charset=utf-8") == (AUDIT_FRENCH, "cp1252")
    assert decode_body(b'<meta charset="utf-8">' + data, "text/html")[1] == "cp1252"
