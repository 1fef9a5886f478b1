//! The HR file: a CSV in UTF-8 (with or without BOM), `;` or `,` separated,
//! one person per line (see docs/hr-sync.md). Parsing checks every line and
//! returns every problem at once, each with its line, column and a French
//! message; a file with any problem is applied not at all.
//!
//! The NUMEN is a secret: it never appears in an error message.

use std::collections::HashMap;
use std::fmt;

use model::{Address, Role, Uai};

/// The columns every HR file must have (in any order; more are ignored).
pub const COLUMNS: &[&str] =
    &["numen", "civilite", "nom", "prenom", "role", "statut", "uai", "adresse_secondaire", "date_effet"];

/// The HR status of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HrStatus {
    /// In post: the account is usable.
    Actif,
    /// Status change (leave, investigation...): login refused at once, mail kept.
    Suspendu,
    /// Left: suspended at once, closed after the retention period.
    Parti,
}

impl HrStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HrStatus::Actif => "actif",
            HrStatus::Suspendu => "suspendu",
            HrStatus::Parti => "parti",
        }
    }

    pub fn parse(s: &str) -> Option<HrStatus> {
        match norm(s).as_str() {
            "actif" | "active" => Some(HrStatus::Actif),
            "suspendu" | "suspendue" => Some(HrStatus::Suspendu),
            "parti" | "partie" | "depart" => Some(HrStatus::Parti),
            _ => None,
        }
    }
}

/// One valid line of the HR file.
#[derive(Clone, PartialEq, Eq)]
pub struct HrRow {
    /// Line number in the file (the header is line 1).
    pub line: usize,
    /// Upper-case, trimmed. Secret: never print it.
    pub numen: String,
    /// `M.` or `Mme`.
    pub civilite: String,
    pub nom: String,
    pub prenom: String,
    pub role: Role,
    pub statut: HrStatus,
    pub uai: Option<Uai>,
    pub adresse_secondaire: Option<Address>,
    /// `AAAA-MM-JJ`.
    pub date_effet: Option<String>,
}

impl fmt::Debug for HrRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HrRow")
            .field("line", &self.line)
            .field("numen", &"***")
            .field("nom", &self.nom)
            .field("prenom", &self.prenom)
            .field("role", &self.role)
            .field("statut", &self.statut)
            .finish_non_exhaustive()
    }
}

/// A problem in the HR file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "ligne {}, colonne « {c} » : {}", self.line, self.message),
            None => write!(f, "ligne {} : {}", self.line, self.message),
        }
    }
}

impl LineError {
    pub fn new(line: usize, column: Option<&str>, message: impl Into<String>) -> LineError {
        LineError { line, column: column.map(str::to_owned), message: message.into() }
    }
}

/// Parses a whole HR file. Either every line is valid, or every problem is returned.
pub fn parse(bytes: &[u8]) -> Result<Vec<HrRow>, Vec<LineError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(vec![LineError::new(
                line,
                None,
                "le fichier n'est pas encodé en UTF-8 (Latin-1 / Windows-1252 ?) : \
                 réenregistrez-le en UTF-8 ; rien n'a été appliqué",
            )]);
        }
    };
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.matches(';').count() >= header_line.matches(',').count() { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.iter().map(|h| norm(h).replace('-', "_")).collect::<Vec<_>>(),
        Err(e) => return Err(vec![LineError::new(1, None, format!("en-tête illisible : {e}"))]),
    };
    let index: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
    let missing: Vec<LineError> = COLUMNS
        .iter()
        .filter(|c| !index.contains_key(**c))
        .map(|c| LineError::new(1, Some(c), "colonne obligatoire absente de l'en-tête"))
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(LineError::new(line, None, format!("ligne CSV illisible : {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != headers.len() {
            errors.push(LineError::new(
                line,
                None,
                format!("{} champs au lieu de {} (séparateur ou guillemets ?)", record.len(), headers.len()),
            ));
            continue;
        }
        match parse_row(line, &Fields { record: &record, index: &index }) {
            Ok(row) => {
                if let Some(first) = seen.insert(row.numen.clone(), line) {
                    errors.push(LineError::new(line, Some("numen"), format!("NUMEN en double (déjà ligne {first})")));
                } else {
                    rows.push(row);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// The fields of one record, by column name.
struct Fields<'r> {
    record: &'r csv::StringRecord,
    index: &'r HashMap<&'r str, usize>,
}

impl<'r> Fields<'r> {
    fn get(&self, column: &str) -> &'r str {
        self.index.get(column).and_then(|i| self.record.get(*i)).unwrap_or("").trim()
    }
}

fn parse_row(line: usize, fields: &Fields<'_>) -> Result<HrRow, Vec<LineError>> {
    let field = |c: &str| fields.get(c);
    let mut errors = Vec::new();
    let mut err = |c: &str, m: String| errors.push(LineError::new(line, Some(c), m));

    let numen = field("numen").to_ascii_uppercase();
    if numen.len() != 13 || !numen.bytes().all(|b| b.is_ascii_alphanumeric()) {
        err("numen", "NUMEN invalide : 13 lettres ou chiffres attendus".into());
    }
    let civilite = match norm(field("civilite")).as_str() {
        "m" | "m." | "monsieur" => "M.",
        "mme" | "madame" => "Mme",
        _ => {
            err("civilite", format!("civilité inconnue « {} » (attendu : M. ou Mme)", field("civilite")));
            ""
        }
    };
    let nom = field("nom");
    let prenom = field("prenom");
    for (c, v) in [("nom", nom), ("prenom", prenom)] {
        if model::translit::slug(v).is_empty() {
            err(c, format!("{c} vide ou sans lettre utilisable"));
        }
    }
    let role = match norm(field("role")).as_str() {
        "enseignant" | "enseignante" => Some(Role::Teacher),
        "administratif" | "administrative" => Some(Role::Administrative),
        "direction" => Some(Role::Direction),
        "eleve" => Some(Role::Student),
        _ => {
            err(
                "role",
                format!("rôle inconnu « {} » (attendu : enseignant, administratif, direction, élève)", field("role")),
            );
            None
        }
    };
    let statut = HrStatus::parse(field("statut"));
    if statut.is_none() {
        err("statut", format!("statut inconnu « {} » (attendu : actif, suspendu, parti)", field("statut")));
    }
    let uai = match field("uai") {
        "" => None,
        u => match Uai::parse(u) {
            Ok(u) => Some(u),
            Err(_) => {
                err("uai", format!("code UAI invalide « {u} » (7 chiffres et une lettre)"));
                None
            }
        },
    };
    let adresse_secondaire = match field("adresse_secondaire") {
        "" => None,
        a => match Address::parse(a) {
            Ok(a) => Some(a),
            Err(_) => {
                err("adresse_secondaire", format!("adresse invalide « {a} »"));
                None
            }
        },
    };
    let date_effet = match field("date_effet") {
        "" => None,
        d if unix_day(d).is_some() => Some(d.to_owned()),
        d => {
            err("date_effet", format!("date invalide « {d} » (attendu : AAAA-MM-JJ)"));
            None
        }
    };
    match (role, statut) {
        (Some(role), Some(statut)) if errors.is_empty() => Ok(HrRow {
            line,
            numen,
            civilite: civilite.to_owned(),
            nom: nom.to_owned(),
            prenom: prenom.to_owned(),
            role,
            statut,
            uai,
            adresse_secondaire,
            date_effet,
        }),
        _ => Err(errors),
    }
}

/// Lower-case, accents removed, trimmed: `Élève` and `eleve` are equal.
fn norm(s: &str) -> String {
    model::translit::slug(s.trim()).replace('_', "-")
}

/// Unix time (seconds, midnight UTC) of an `AAAA-MM-JJ` date.
pub fn unix_day(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    // Days from civil (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n";

    #[test]
    fn reads_a_valid_file_with_bom_and_accents() {
        let text = format!(
            "\u{feff}{HEADER}12E0000001ABC;Mme;Lefèvre-Dupré;Hélène;enseignant;actif;0541234A;h@example.org;2026-09-01\n\
             12E0000002ABC;M.;Petit;Lucas;élève;actif;0541234a;;\n"
        );
        let rows = parse(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].prenom, "Hélène");
        assert_eq!(rows[1].role, Role::Student);
        assert_eq!(rows[1].uai.as_ref().unwrap().as_str(), "0541234A");
        assert_eq!(rows[1].date_effet, None);
    }

    #[test]
    fn latin1_is_refused_with_its_line() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"12E0000001ABC;Mme;Lef\xe8vre;H\xe9l\xe8ne;enseignant;actif;0541234A;;\n");
        let errors = parse(&bytes).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.contains("UTF-8"), "{}", errors[0]);
    }

    #[test]
    fn every_bad_line_is_reported_without_the_numen() {
        let text = format!(
            "{HEADER}12E0000001ABC;Mme;Martin;Claire;enseignant;actif;0541234A;;\n\
             12E0000001ABC;M.;Durand;Paul;enseignant;actif;0541234A;;\n\
             12E0000003ABC;M.;Durand;Paul;professeur;actif;XYZ;;2026-02-30\n\
             SECRET;X;;Paul;enseignant;actif;;;\n"
        );
        let errors = parse(text.as_bytes()).unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(shown.contains(&"ligne 3, colonne « numen » : NUMEN en double (déjà ligne 2)".to_owned()), "{shown:?}");
        assert!(errors.iter().any(|e| e.line == 4 && e.column.as_deref() == Some("role")));
        assert!(errors.iter().any(|e| e.line == 4 && e.column.as_deref() == Some("uai")));
        assert!(errors.iter().any(|e| e.line == 4 && e.column.as_deref() == Some("date_effet")));
        assert!(errors.iter().any(|e| e.line == 5 && e.column.as_deref() == Some("numen")));
        assert!(errors.iter().any(|e| e.line == 5 && e.column.as_deref() == Some("civilite")));
        assert!(errors.iter().any(|e| e.line == 5 && e.column.as_deref() == Some("nom")));
        assert!(!shown.iter().any(|s| s.contains("SECRET") || s.contains("12E0000001ABC")), "{shown:?}");
    }

    #[test]
    fn missing_columns_are_named() {
        let errors = parse(b"numen,nom,prenom,role\n12E0000001ABC,Martin,Claire,enseignant\n").unwrap_err();
        let cols: Vec<_> = errors.iter().map(|e| e.column.clone().unwrap()).collect();
        assert_eq!(cols, ["civilite", "statut", "uai", "adresse_secondaire", "date_effet"]);
        assert!(errors.iter().all(|e| e.line == 1));
    }

    #[test]
    fn dates() {
        assert_eq!(unix_day("1970-01-01"), Some(0));
        assert_eq!(unix_day("2026-11-23"), Some(1_795_392_000));
        assert!(unix_day("2024-02-29").is_some());
        assert_eq!(unix_day("2023-02-29"), None);
        assert_eq!(unix_day("23/11/2026"), None);
    }
}
