//! A deterministic French corpus for the large-mailbox workloads (R7):
//! messages whose subjects and bodies draw words from a school-administration
//! vocabulary with a Zipf-like frequency (so some words are in most messages
//! and some in a few), accents included, one message in five carrying an
//! attachment with a file name. The same (seed, number) gives the same bytes,
//! so both servers hold the same mailbox. [`queries`] is the fixed list of
//! search words: frequent, middle, rare, accented words written without
//! accents, and words that occur nowhere.

use rand::{Rng, SeedableRng, rngs::StdRng};

/// Ordered by intended frequency: rank 0 is the most frequent.
const VOCAB: &[&str] = &[
    "élèves",
    "classe",
    "réunion",
    "parents",
    "conseil",
    "professeur",
    "collège",
    "lycée",
    "année",
    "semaine",
    "établissement",
    "équipe",
    "rentrée",
    "projet",
    "demande",
    "dossier",
    "information",
    "réponse",
    "date",
    "horaire",
    "salle",
    "bulletin",
    "trimestre",
    "emploi",
    "temps",
    "sortie",
    "scolaire",
    "académie",
    "rectorat",
    "inspection",
    "principal",
    "proviseur",
    "cantine",
    "examen",
    "brevet",
    "baccalauréat",
    "vacances",
    "inscription",
    "évaluation",
    "compétences",
    "notes",
    "absence",
    "retard",
    "famille",
    "enseignant",
    "enseignement",
    "discipline",
    "mathématiques",
    "français",
    "histoire",
    "géographie",
    "anglais",
    "espagnol",
    "allemand",
    "physique",
    "chimie",
    "biologie",
    "technologie",
    "musique",
    "éducation",
    "sportive",
    "arts",
    "plastiques",
    "philosophie",
    "économie",
    "numérique",
    "informatique",
    "tablette",
    "ordinateur",
    "réseau",
    "messagerie",
    "formation",
    "stage",
    "entreprise",
    "orientation",
    "parcoursup",
    "vœux",
    "affectation",
    "mutation",
    "carrière",
    "rémunération",
    "indemnité",
    "congé",
    "maladie",
    "remplacement",
    "contractuel",
    "titulaire",
    "stagiaire",
    "inspecteur",
    "circonscription",
    "département",
    "région",
    "ministère",
    "circulaire",
    "décret",
    "arrêté",
    "note",
    "service",
    "secrétariat",
    "intendance",
    "gestionnaire",
    "budget",
    "crédits",
    "facture",
    "commande",
    "fournisseur",
    "transport",
    "autocar",
    "voyage",
    "séjour",
    "échange",
    "linguistique",
    "partenariat",
    "association",
    "foyer",
    "délégués",
    "élection",
    "représentants",
    "assemblée",
    "générale",
    "procès-verbal",
    "ordre",
    "jour",
    "calendrier",
    "planning",
    "convocation",
    "invitation",
    "rappel",
    "urgent",
    "sécurité",
    "exercice",
    "incendie",
    "confinement",
    "alerte",
    "infirmerie",
    "santé",
    "médecin",
    "psychologue",
    "assistante",
    "sociale",
    "harcèlement",
    "prévention",
    "citoyenneté",
    "laïcité",
    "règlement",
    "intérieur",
    "sanction",
    "exclusion",
    "commission",
    "éducative",
    "vie",
    "scolarité",
    "CPE",
    "surveillant",
    "accompagnement",
    "personnalisé",
    "soutien",
    "aide",
    "devoirs",
    "tutorat",
    "inclusion",
    "handicap",
    "AESH",
    "ULIS",
    "SEGPA",
    "aménagement",
    "épreuves",
    "tiers-temps",
    "correction",
    "copies",
    "jury",
    "délibération",
    "résultats",
    "diplôme",
    "mention",
    "attestation",
    "certificat",
    "relevé",
    "livret",
    "appréciation",
    "progression",
    "programme",
    "manuel",
    "bibliothèque",
    "CDI",
    "documentaliste",
    "lecture",
    "théâtre",
    "chorale",
    "olympiades",
    "concours",
    "kangourou",
    "robotique",
    "jardinage",
    "développement",
    "durable",
    "écologie",
    "tri",
    "déchets",
    "énergie",
    "chauffage",
    "travaux",
    "maintenance",
    "agent",
    "entretien",
    "restauration",
    "menu",
    "allergie",
    "régime",
    "pique-nique",
    "goûter",
    "récréation",
    "cour",
    "préau",
    "gymnase",
    "piscine",
    "natation",
    "athlétisme",
    "handball",
    "escalade",
    "randonnée",
    "neige",
    "classe-découverte",
    "patrimoine",
    "musée",
    "exposition",
    "conférence",
    "intervenant",
    "gendarmerie",
    "pompiers",
    "mairie",
    "conseil-départemental",
    "subvention",
    "dotation",
    "mobilier",
    "photocopieur",
    "cartouches",
    "papeterie",
    "clés",
    "badge",
    "portail",
    "parking",
    "vélo",
    "trottinette",
    "accident",
    "déclaration",
    "assurance",
    "responsabilité",
    "autorisation",
    "signature",
    "formulaire",
    "pièce",
    "jointe",
    "justificatif",
    "domicile",
    "bourse",
    "fonds",
    "social",
    "quotient",
    "tarif",
    "paiement",
    "remboursement",
    "chèque",
    "virement",
    "trésorerie",
    "comptable",
    "agence",
    "inventaire",
    "archives",
    "registre",
    "protocole",
    "sanitaire",
    "masques",
    "ventilation",
    "capteurs",
    "dérogation",
    "carte",
    "scolaire",
    "secteur",
    "effectifs",
    "dédoublement",
    "groupe",
    "option",
    "latin",
    "grec",
    "européenne",
    "internationale",
    "bilingue",
    "immersion",
    "correspondant",
    "jumelage",
    "Québec",
    "Allemagne",
    "Espagne",
    "Italie",
    "Irlande",
    "Écosse",
    "Londres",
    "Séville",
    "Munich",
    "rétroplanning",
    "préfecture",
    "écocitoyenneté",
    "herbier",
    "ornithologie",
    "cérémonie",
    "commémoration",
    "mémorial",
    "résistance",
    "déportation",
    "témoignage",
    "archéologie",
    "fouilles",
    "paléontologie",
];

const FIRST: &[&str] = &[
    "Claire",
    "Hélène",
    "Jérôme",
    "François",
    "Amélie",
    "Loïc",
    "Chloé",
    "Zoé",
    "Noël",
    "Gaëlle",
    "Anaïs",
    "Frédéric",
    "Cédric",
    "Léa",
    "Thérèse",
    "André",
    "Benoît",
    "Émilie",
    "Raphaël",
    "Inès",
];
const LAST: &[&str] = &[
    "Martin",
    "Lefèvre",
    "Dubois",
    "Moreau",
    "Girard",
    "Bérenger",
    "Fournier",
    "Mercier",
    "Lambert",
    "Chevalier",
    "Rousseau",
    "Faure",
    "Gauthier",
    "Barbier",
    "Hénault",
    "Perrin",
    "Clément",
    "Leroy",
    "Roché",
    "Noël",
];

/// Cumulative Zipf weights (exponent 1) over [`VOCAB`].
fn cumulative() -> &'static [f64] {
    static CUM: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    CUM.get_or_init(|| {
        let mut acc = 0.0;
        VOCAB
            .iter()
            .enumerate()
            .map(|(i, _)| {
                acc += 1.0 / (i as f64 + 2.0);
                acc
            })
            .collect()
    })
}

fn word(rng: &mut StdRng) -> &'static str {
    let cum = cumulative();
    let x = rng.gen_range(0.0..*cum.last().expect("vocabulary"));
    VOCAB[cum.partition_point(|&c| c < x).min(VOCAB.len() - 1)]
}

/// Message `number` (from 0) of the large mailbox, 1-40 KB.
pub fn message(seed: u64, number: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ number);
    let mut subject: String = (0..rng.gen_range(3..9)).map(|_| word(&mut rng)).collect::<Vec<_>>().join(" ");
    if let Some(first) = subject.get(..1) {
        subject = first.to_uppercase() + &subject[1..];
    }
    let from = (FIRST[rng.gen_range(0..FIRST.len())], LAST[rng.gen_range(0..LAST.len())]);
    let mailbox = format!("{}.{}", ascii(from.0), ascii(from.1)).to_lowercase();
    let day = 1 + number % 28;
    let head = format!(
        "Date: {:02} Sep 2026 {:02}:{:02}:00 +0200\r\nFrom: {} {} <{mailbox}@ac-test.fr>\r\n\
         To: Secrétariat <secretariat@ac-test.fr>\r\nSubject: =?utf-8?B?{}?=\r\n\
         Message-ID: <big.{seed}.{number}@bench.ac-test.fr>\r\nMIME-Version: 1.0\r\n",
        day,
        8 + number % 10,
        number % 60,
        from.0,
        from.1,
        base64(subject.as_bytes()),
    );
    let mut body = String::from("Bonjour,\r\n\r\n");
    for _ in 0..rng.gen_range(1..6) {
        body.push_str(&paragraph(&mut rng));
        body.push_str("\r\n\r\n");
    }
    body.push_str(&format!("Cordialement,\r\n{} {}\r\n", from.0, from.1));
    if number % 5 == 2 {
        let b = format!("mixed{seed}x{number}");
        let name = format!("{}-{}-{number}.pdf", ascii(word(&mut rng)), ascii(word(&mut rng))).to_lowercase();
        let len = rng.gen_range(2_000..30_000);
        let blob: Vec<u8> = (0..len).map(|_| rng.r#gen::<u8>()).collect();
        format!(
            "{head}Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n--{b}\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}--{b}\r\n\
             Content-Type: application/pdf; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}--{b}--\r\n",
            wrap(&base64(&blob))
        )
        .into_bytes()
    } else {
        format!("{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}")
            .into_bytes()
    }
}

/// Sentences of words, lines under 78 columns.
fn paragraph(rng: &mut StdRng) -> String {
    let mut out = String::new();
    let mut line = 0;
    for s in 0..rng.gen_range(2..7) {
        let n = rng.gen_range(5..16);
        for i in 0..n {
            let mut w = word(rng).to_owned();
            if i == 0 {
                w = w.chars().next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default()
                    + &w.chars().skip(1).collect::<String>();
            }
            if i == n - 1 {
                w.push('.');
            }
            if line + w.len() > 70 {
                out.push_str("\r\n");
                line = 0;
            } else if line > 0 || s > 0 {
                out.push(' ');
                line += 1;
            }
            out.push_str(&w);
            line += w.len();
        }
    }
    out
}

/// Lower-case ASCII without accents (file names, addresses, queries).
pub fn ascii(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    for c in w.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' => out.push('i'),
            'ô' | 'ö' => out.push('o'),
            'ù' | 'û' | 'ü' => out.push('u'),
            'ç' => out.push('c'),
            'œ' => out.push_str("oe"),
            c => out.push(c),
        }
    }
    out
}

/// The fixed, seeded query list: 20 frequent words, 20 of middle rank, 12
/// rare ones, 10 accented words written without accents, 3 absent words.
pub fn queries(seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5EA2C4);
    let simple = |w: &&&str| !w.contains('-') && w.chars().count() >= 4;
    let mut pick = |range: std::ops::Range<usize>, n: usize, want_accent: Option<bool>| {
        let mut cand: Vec<&str> = VOCAB[range]
            .iter()
            .filter(simple)
            .filter(|w| want_accent.is_none_or(|a| a == (ascii(w) != w.to_lowercase())))
            .copied()
            .collect();
        let mut out = Vec::new();
        while out.len() < n && !cand.is_empty() {
            out.push(cand.swap_remove(rng.gen_range(0..cand.len())).to_owned());
        }
        out
    };
    let mut q = pick(0..30, 20, None);
    q.extend(pick(60..180, 20, None));
    q.extend(pick(230..VOCAB.len(), 12, None));
    q.extend(pick(0..VOCAB.len(), 10, Some(true)).iter().map(|w| ascii(w)));
    q.extend(["ornithorynque", "kaléidoscope", "zygomatique"].map(str::to_owned));
    let mut seen = std::collections::BTreeSet::new();
    q.retain(|w| seen.insert(w.clone()));
    q
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn wrap(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 38);
    for chunk in s.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_well_formed() {
        assert_eq!(message(7, 3), message(7, 3));
        assert_ne!(message(7, 3), message(7, 4));
        let mut attachments = 0;
        for n in 0..50 {
            let m = String::from_utf8(message(2026, n)).unwrap();
            assert!(m.contains("\r\n\r\n"));
            assert!(m.lines().all(|l| l.len() < 998), "{n}");
            assert!(!m.replace("\r\n", "").contains('\n'), "bare LF in {n}");
            assert!(m.len() < 60_000);
            attachments += usize::from(m.contains("filename=\""));
        }
        assert_eq!(attachments, 10);
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn query_list_is_fixed_and_varied() {
        let q = queries(2026);
        assert_eq!(q, queries(2026));
        assert!(q.len() >= 50, "{}", q.len());
        assert!(q.iter().any(|w| w == "ornithorynque"));
        assert!(q.iter().any(|w| !w.is_ascii()), "some accented queries");
        let dedup: std::collections::BTreeSet<_> = q.iter().collect();
        assert_eq!(dedup.len(), q.len());
    }
}
