//! The messages of the demo académie, oldest first: notes de service from the
//! rectorat, convocations, parents, a colleagues' thread, a newsletter, the
//! school office's mail.

use super::files::{Event, ics, pdf};
use super::{Ctx, File, Person, Spec, fr_day, fr_time, local};

/// Local parts of the named demo accounts, which the "colleague" must not be.
const NAMED: [&str; 5] = ["claire.martin", "paul.durand", "secretariat.0541234a", "admin", "eleve.test"];

fn mail(days_ago: u32, minutes: i64, from: &Person, subject: impl Into<String>, text: impl Into<String>) -> Spec {
    Spec {
        days_ago,
        minutes,
        from: from.clone(),
        to: Vec::new(),
        cc: Vec::new(),
        deliver: None,
        subject: subject.into(),
        text: text.into(),
        html: None,
        files: Vec::new(),
        reply_to: None,
        seen: false,
        flagged: false,
    }
}

impl Spec {
    fn to(mut self, people: &[&Person]) -> Spec {
        self.to = people.iter().map(|p| (*p).clone()).collect();
        self
    }
    fn cc(mut self, people: &[&Person]) -> Spec {
        self.cc = people.iter().map(|p| (*p).clone()).collect();
        self
    }
    fn deliver(mut self, addresses: &[String]) -> Spec {
        self.deliver = Some(addresses.to_vec());
        self
    }
    fn html(mut self, html: String) -> Spec {
        self.html = Some(html);
        self
    }
    fn file(mut self, file: File) -> Spec {
        self.files.push(file);
        self
    }
    fn reply_to(mut self, index: usize) -> Spec {
        self.reply_to = Some(index);
        self
    }
    fn seen(mut self) -> Spec {
        self.seen = true;
        self
    }
    fn flagged(mut self) -> Spec {
        self.flagged = true;
        self
    }
}

/// Adds a message and returns its index, for replies.
fn add(specs: &mut Vec<Spec>, spec: Spec) -> usize {
    specs.push(spec);
    specs.len() - 1
}

/// A convocation: the .ics file and the sentence that announces the meeting.
/// `when` is the start (unix seconds) and the length in minutes.
#[allow(clippy::too_many_arguments)]
fn invitation(
    ctx: &Ctx<'_>,
    n: usize,
    sent: i64,
    when: (i64, i64),
    summary: &str,
    location: &str,
    organizer: &Person,
    attendees: &[&Person],
) -> File {
    let (start, minutes) = when;
    let description = format!("{summary}, {} à {}.", fr_day(start), fr_time(start));
    let event = Event {
        uid: format!("demo-event-{n}@{}", ctx.domain),
        start,
        minutes,
        summary,
        location,
        description: &description,
        organizer: (&organizer.0, &organizer.1),
        stamp: sent,
        attendees: attendees.iter().map(|p| (p.0.clone(), p.1.clone())).collect(),
    };
    File::new("text/calendar", "invitation.ics", ics(&event))
}

/// The local part of the demo's room, « Salle du conseil » of the collège.
pub const ROOM: &str = "salle-du-conseil.0541234a";

/// The UID of the convocation to the « conseil pédagogique », which Claire
/// and Paul can answer from the webmail.
pub fn board_uid(domain: &str) -> String {
    format!("demo-event-3@{domain}")
}

pub(super) fn specs(ctx: &Ctx<'_>) -> Vec<Spec> {
    let person = |local: &str, name: &str| ctx.person(local, name);
    let claire = person("claire.martin", "Claire Martin");
    let paul = person("paul.durand", "Paul Durand");
    let secretariat = person("secretariat.0541234a", "Secrétariat — Collège Jules Ferry");
    let principale = person("isabelle.roche", "Isabelle Roche");
    let adjoint = person("marc.lefort", "Marc Lefort");
    let cpe = person("nadia.benali", "Nadia Benali");
    let gestionnaire = person("thierry.colin", "Thierry Colin");
    let ipr = person("sylvie.marchand", "Sylvie Marchand");
    let dsi = person("dsi", "DSI — Rectorat de l'académie de démonstration");
    let drh = person("drh", "DRH — Rectorat de l'académie de démonstration");
    let stats = person("statistiques", "Service statistique — Rectorat");
    let drane = person("drane", "DRANE — Académie de démonstration");
    let examens = person("examens.dsden54", "DSDEN de Meurthe-et-Moselle — Division des examens");
    let formation = person("formation.dsden54", "DSDEN de Meurthe-et-Moselle — Formation continue");
    let personnels = ("Tous les personnels".to_owned(), format!("diffusion.personnels@{}", ctx.domain));
    let colleague = ctx
        .staff
        .iter()
        .find(|(a, _)| a.split('@').next().is_some_and(|l| !NAMED.contains(&l)))
        .cloned()
        .map_or_else(|| person("helene.lefevre-dupre", "Hélène Lefèvre-Dupré"), |(a, n)| (n, a));
    let ext = |name: &str, address: &str| (name.to_owned(), address.to_owned());
    let bernard = ext("Hélène Bernard", "famille.bernard@gmail.example");
    let nguyen = ext("Minh Nguyen", "m.nguyen@orange.example");
    let petit = ext("Sophie Petit", "famille.petit@laposte.example");
    let garcia = ext("José Garcia", "jose.garcia@free.example");
    let mut all_staff: Vec<String> = Vec::new();
    for (address, _) in ctx.staff {
        if !all_staff.contains(address) {
            all_staff.push(address.clone());
        }
    }
    if all_staff.is_empty() {
        all_staff = vec![claire.1.clone(), paul.1.clone(), secretariat.1.clone()];
    }
    let now = local(ctx.now);
    let year = now.year();
    let school_year =
        if u8::from(now.month()) >= 9 { format!("{year}-{}", year + 1) } else { format!("{}-{year}", year - 1) };
    let rectorat_signature = "--\nRectorat de l'académie de démonstration\nCe message vous est adressé par un service académique : \
                              la DSI ne vous demandera jamais votre mot de passe par courriel.";

    let mut v = Vec::new();

    let sent = ctx.sent(27, 35);
    add(&mut v, mail(27, 35, &drh, format!("Note de service : campagne de mutations intra-académiques {year}"), format!(
        "Mesdames et Messieurs,\n\nLa campagne de mutations intra-académiques {year} est ouverte. Les demandes se font \
         en ligne jusqu'au {}. La note de service jointe précise le calendrier, les barèmes et les pièces justificatives.\n\n\
         Les gestionnaires de la DRH restent à votre disposition pour toute question.\n\nLa directrice des ressources humaines\n\n{rectorat_signature}",
        fr_day(sent + 20 * 86_400))).to(&[&personnels]).deliver(&all_staff).seen()
        .file(File::new("application/pdf", format!("note_de_service_mutations_{year}.pdf"), pdf(
            &format!("Note de service — mutations intra-académiques {year}"),
            &["Destinataires : l'ensemble des personnels enseignants, d'éducation et psychologues.",
              "1. Calendrier : saisie des vœux en ligne, puis vérification des barèmes.",
              "2. Barèmes : ancienneté de poste, situation familiale, priorités légales.",
              "3. Pièces justificatives à transmettre avant la clôture de la saisie.",
              "La directrice des ressources humaines"]))));

    add(
        &mut v,
        mail(
            25,
            12,
            &gestionnaire,
            format!("Manuels scolaires : commande {}", school_year_next(&school_year)),
            "Bonjour à tous,\n\nLes commandes de manuels pour l'an prochain doivent me parvenir avant la fin du mois. \
         Merci d'indiquer le titre, l'éditeur, l'ISBN et le nombre d'exemplaires par niveau.\n\nBien cordialement,\n\
         Thierry Colin\nGestionnaire — Collège Jules Ferry",
        )
        .to(&[&claire, &paul])
        .seen(),
    );

    add(
        &mut v,
        mail(
            23,
            8,
            &principale,
            "Compte rendu du conseil d'administration",
            "Bonjour,\n\nVous trouverez ci-joint le compte rendu du dernier conseil d'administration, \
         adopté à l'unanimité. Il sera affiché en salle des professeurs.\n\nCordialement,\n\
         Isabelle Roche\nPrincipale du collège Jules Ferry",
        )
        .to(&[&paul])
        .seen()
        .file(File::new(
            "application/pdf",
            "compte_rendu_CA.pdf",
            pdf(
                "Compte rendu du conseil d'administration",
                &[
                    "Collège Jules Ferry, Nancy (UAI 0541234A)",
                    "1. Adoption du procès-verbal de la séance précédente : adopté.",
                    "2. Voyages et sorties pédagogiques : sortie au musée des Beaux-Arts approuvée.",
                    "3. Budget : décision modificative n° 2 adoptée.",
                    "4. Questions diverses : aménagement du foyer des élèves.",
                ],
            ),
        )),
    );

    let sent = ctx.sent(22, 50);
    let oral = ctx.meeting(sent, 40, 8, 0);
    add(
        &mut v,
        mail(
            22,
            50,
            &examens,
            "Convocation : jury du diplôme national du brevet",
            format!(
                "Monsieur,\n\nVous êtes convoqué en qualité de membre du jury du diplôme national du brevet. \
         La réunion d'entente aura lieu le {} à {}, au lycée Henri Poincaré de Nancy.\n\n\
         Votre convocation officielle est jointe à ce message. En cas d'empêchement, merci de prévenir \
         la division des examens au plus vite.\n\nLa division des examens et concours",
                fr_day(oral),
                fr_time(oral)
            ),
        )
        .to(&[&paul])
        .seen()
        .flagged()
        .file(File::new(
            "application/pdf",
            "convocation_jury_DNB.pdf",
            pdf(
                "Convocation — jury du DNB",
                &[
                    "M. Paul Durand, professeur d'histoire-géographie, collège Jules Ferry.",
                    &format!("Réunion d'entente : {} à {}.", fr_day(oral), fr_time(oral)),
                    "Lieu : lycée Henri Poincaré, Nancy.",
                    "Présence obligatoire (article R. 912-1 du code de l'éducation).",
                ],
            ),
        )),
    );

    add(&mut v, mail(21, 17, &colleague, "Projet eTwinning avec un collège de Trèves", format!(
        "Bonjour Claire,\n\nUn collège de Trèves cherche une classe de 4e pour un échange de lettres en français et en \
         allemand. J'ai pensé à ta classe, puisque tu travailles le récit épistolaire ce trimestre.\n\n\
         Veux-tu que je te mette en relation avec leur professeure ?\n\nBien à toi,\n{}", colleague.0))
        .to(&[&claire]).seen());

    add(&mut v, mail(20, 5, &dsi, "Sécurité : la DSI ne vous demandera jamais votre mot de passe", format!(
        "Mesdames et Messieurs,\n\nDes messages frauduleux imitant la messagerie académique circulent actuellement. \
         Ils vous invitent à « confirmer votre compte » en saisissant votre identifiant et votre mot de passe.\n\n\
         Ne répondez pas et ne cliquez sur aucun lien : la DSI ne vous demandera jamais votre mot de passe par courriel. \
         En cas de doute, contactez l'assistance de votre établissement.\n\nLa direction des systèmes d'information\n\n{rectorat_signature}"))
        .to(&[&personnels]).deliver(&all_staff).seen());

    let sent = ctx.sent(18, 22);
    let training = ctx.meeting(sent, 21, 9, 0);
    add(&mut v, mail(18, 22, &formation, "Formation : enseigner avec le numérique — inscriptions ouvertes", format!(
        "Bonjour,\n\nLes inscriptions au module « Enseigner avec le numérique » sont ouvertes. La première journée \
         aura lieu le {} à l'INSPÉ de Nancy. Le programme détaillé est joint.\n\nCordialement,\nLe pôle formation continue",
        fr_day(training)))
        .to(&[&claire, &paul]).seen()
        .file(File::new("application/pdf", "programme_formation_numérique.pdf", pdf("Enseigner avec le numérique",
            &[&format!("Première journée : {}, 9 h – 16 h 30.", fr_day(training)),
              "Matin : l'ENT et la messagerie académique au service de la classe.",
              "Après-midi : évaluer avec des outils numériques, ateliers pratiques.",
              "Public : professeurs de collège et de lycée."]))));

    let sent = ctx.sent(17, 40);
    add(&mut v, mail(17, 40, &adjoint, "Rappel : saisie des appréciations avant vendredi", format!(
        "Bonjour à toutes et à tous,\n\nJe vous rappelle que les appréciations du trimestre doivent être saisies dans le \
         logiciel de vie scolaire avant le {} au soir, afin que les bulletins puissent être édités à temps pour les conseils \
         de classe.\n\nMerci de votre vigilance.\n\nMarc Lefort\nPrincipal adjoint", fr_day(ctx.meeting(sent, 4, 18, 0))))
        .to(&[&claire, &paul]).seen());

    let sent = ctx.sent(16, 30);
    add(&mut v, mail(16, 30, &stats, "Enquête : effectifs par division à saisir", format!(
        "Madame, Monsieur,\n\nDans le cadre de l'enquête sur les effectifs, merci de vérifier le fichier joint, pré-rempli \
         à partir de la base élèves, et de nous retourner vos corrections avant le {}.\n\nLe service statistique académique",
        fr_day(sent + 10 * 86_400)))
        .to(&[&secretariat]).seen()
        .file(File::new("text/csv", "effectifs_0541234A.csv",
            "Division;Niveau;Effectif;Dont filles;Dont garçons\n6e A;6e;27;14;13\n6e B;6e;26;12;14\n5e A;5e;28;15;13\n\
             5e B;5e;25;13;12\n4e A;4e;27;13;14\n4e B;4e;26;14;12\n3e A;3e;28;14;14\n3e B;3e;27;15;12\n".as_bytes().to_vec())));

    let sent = ctx.sent(15, 14);
    let parents = ctx.meeting(sent, 8, 17, 0);
    add(&mut v, mail(15, 14, &secretariat, "Réunion parents-professeurs", format!(
        "Bonjour,\n\nLa réunion parents-professeurs des classes de 4e aura lieu le {} de {} à 20 h. \
         Les rendez-vous sont pris par les familles dans l'ENT ; chaque professeur disposera d'une salle au premier étage.\n\n\
         L'invitation est jointe pour votre agenda.\n\nLe secrétariat", fr_day(parents), fr_time(parents)))
        .to(&[&claire, &paul]).seen()
        .file(invitation(ctx, 1, sent, (parents, 180), "Réunion parents-professeurs (4e)", "Collège Jules Ferry, 1er étage", &secretariat, &[])));

    let sent = ctx.sent(14, 25);
    let visit = ctx.meeting(sent, 24, 10, 0);
    add(&mut v, mail(14, 25, &ipr, "Visite d'inspection — proposition de date", format!(
        "Madame,\n\nDans le cadre du rendez-vous de carrière, je vous propose une visite en classe le {} à {}, \
         suivie d'un entretien. Pourriez-vous me confirmer que cette date vous convient et m'indiquer la classe concernée ?\n\n\
         Je vous prie d'agréer, Madame, l'expression de mes salutations distinguées.\n\nSylvie Marchand\nIA-IPR de lettres",
        fr_day(visit), fr_time(visit)))
        .to(&[&claire]).seen().flagged());

    add(&mut v, mail(13, 45, &colleague, "AS : tournoi de handball mercredi", format!(
        "Salut Paul,\n\nL'association sportive organise un tournoi de handball mercredi après-midi. Nous cherchons \
         un accompagnateur pour le car : serais-tu disponible de 13 h à 17 h ?\n\nMerci d'avance,\n{}", colleague.0))
        .to(&[&paul]).seen());

    let sent = ctx.sent(12, 3);
    let window = ctx.meeting(sent, 2, 20, 0);
    add(&mut v, mail(12, 3, &dsi, "Maintenance de la messagerie académique", format!(
        "Mesdames et Messieurs,\n\nUne opération de maintenance de la messagerie aura lieu le {} à partir de {}. \
         Le service sera interrompu pendant environ quatre heures ; les messages reçus pendant l'intervention \
         seront distribués à son issue, aucun ne sera perdu.\n\nLe détail de l'opération figure dans la note jointe.\n\n\
         La direction des systèmes d'information\n\n{rectorat_signature}", fr_day(window), fr_time(window)))
        .to(&[&personnels]).deliver(&all_staff).seen()
        .file(File::new("application/pdf", "note_maintenance_messagerie.pdf", pdf("Maintenance de la messagerie académique",
            &[&format!("Date : {}, à partir de {} (durée estimée : 4 heures).", fr_day(window), fr_time(window)),
              "Services concernés : webmail, IMAP, envoi de messages.",
              "Les messages entrants sont mis en attente puis distribués.",
              "Assistance : votre correspondant informatique d'établissement."]))));

    add(
        &mut v,
        mail(
            11,
            28,
            &secretariat,
            "Photocopies pour le brevet blanc",
            "Bonjour Madame Martin,\n\nPourriez-vous déposer les sujets de français du brevet blanc au secrétariat \
         avant jeudi ? Il faut prévoir 56 exemplaires pour les deux classes de 3e.\n\nMerci,\nLe secrétariat",
        )
        .to(&[&claire])
        .seen(),
    );

    let grades = add(&mut v, mail(10, 9, &paul, "Notes du 2e trimestre — 4e B",
        "Bonjour Claire,\n\nComme convenu, voici le tableau des moyennes d'histoire-géographie de la 4e B, \
         pour préparer le conseil de classe. Dis-moi si tu vois une erreur.\n\nPaul")
        .to(&[&claire]).seen().flagged()
        .file(File::new("text/csv", "notes_4eB_trimestre2.csv",
            "Nom;Prénom;Histoire-géographie;EMC;Appréciation\nBernard;Léo;13,5;15;Bon trimestre, participation active.\n\
             Dupont;Chloé;16;17;Excellent travail.\nGirard;Théo;9,5;11;Des efforts à poursuivre.\n\
             Nguyen;Anaïs;14;14,5;Travail sérieux.\nPetit;Raphaël;11;12;Ensemble correct.\n".as_bytes().to_vec())));

    let sent = ctx.sent(9, 55);
    let council = ctx.meeting(sent, 6, 17, 30);
    add(
        &mut v,
        mail(
            9,
            55,
            &principale,
            "Convocation : conseil de classe de 4e B",
            format!(
                "Madame, Monsieur,\n\nLe conseil de classe de la 4e B se tiendra le {} à {} en salle du conseil. \
         Merci de saisir vos appréciations au préalable.\n\nIsabelle Roche\nPrincipale",
                fr_day(council),
                fr_time(council)
            ),
        )
        .to(&[&claire, &paul])
        .seen()
        .file(invitation(
            ctx,
            2,
            sent,
            (council, 60),
            "Conseil de classe de 4e B",
            "Salle du conseil",
            &principale,
            &[],
        )),
    );

    add(
        &mut v,
        mail(
            9,
            20,
            &claire,
            "Re : Notes du 2e trimestre — 4e B",
            "Merci Paul, tout est juste de mon côté. Je reprendrai tes appréciations pour la synthèse du conseil.\n\n\
         Claire\n\nPaul Durand a écrit :\n> Comme convenu, voici le tableau des moyennes d'histoire-géographie \
         de la 4e B,\n> pour préparer le conseil de classe.",
        )
        .to(&[&paul])
        .reply_to(grades)
        .seen(),
    );

    let museum = add(&mut v, mail(8, 33, &paul, "Projet interdisciplinaire : sortie au musée des Beaux-Arts",
        "Bonjour Claire,\n\nPour notre projet commun sur le XIXe siècle, je propose une sortie au musée des Beaux-Arts \
         avec les 4e B : la salle consacrée au romantisme colle bien à ton programme de lecture.\n\n\
         Qu'en penses-tu ? Il faudrait la présenter au prochain conseil d'administration.\n\nPaul")
        .to(&[&claire]).seen());

    let museum2 = add(
        &mut v,
        mail(
            7,
            41,
            &claire,
            "Re : Projet interdisciplinaire : sortie au musée des Beaux-Arts",
            "Excellente idée ! Je ferai travailler les élèves sur un tableau en amont, avec un court récit à écrire.\n\
         Je peux accompagner le jeudi matin.\n\nClaire\n\nPaul Durand a écrit :\n> Pour notre projet commun sur le \
         XIXe siècle, je propose une sortie au musée des Beaux-Arts\n> avec les 4e B.",
        )
        .to(&[&paul])
        .reply_to(museum)
        .seen(),
    );

    let museum3 = add(&mut v, mail(6, 16, &paul, "Re : Projet interdisciplinaire : sortie au musée des Beaux-Arts",
        "Parfait. Je mets le secrétariat en copie pour la réservation du car et les autorisations de sortie.\n\nPaul\n\n\
         Claire Martin a écrit :\n> Je peux accompagner le jeudi matin.")
        .to(&[&claire]).cc(&[&secretariat]).reply_to(museum2).seen());

    add(&mut v, mail(6, 48, &nguyen, "Devoirs de français pour lundi",
        "Bonjour Madame,\n\nMon fils Anh était absent vendredi et ne sait pas quels exercices sont à faire pour lundi. \
         Pourriez-vous me les indiquer ? Le cahier de textes de l'ENT n'est pas encore à jour.\n\n\
         Merci beaucoup,\nMinh Nguyen")
        .to(&[&claire]).seen());

    add(&mut v, mail(5, 37, &nguyen, "Inscription à la cantine — changement de régime",
        "Bonjour,\n\nÀ partir du mois prochain, mon fils Anh (5e A) déjeunera à la cantine quatre jours par semaine. \
         Quels documents dois-je fournir ?\n\nCordialement,\nMinh Nguyen")
        .to(&[&secretariat]).seen());

    add(
        &mut v,
        mail(
            5,
            10,
            &secretariat,
            "Re : Projet interdisciplinaire : sortie au musée des Beaux-Arts",
            "Bonjour,\n\nLe car est réservé pour jeudi matin (départ 8 h 30, retour 12 h). Les autorisations de sortie \
         seront distribuées aux élèves demain.\n\nLe secrétariat\n\nPaul Durand a écrit :\n\
         > Je mets le secrétariat en copie pour la réservation du car et les autorisations de sortie.",
        )
        .to(&[&paul, &claire])
        .reply_to(museum3),
    );

    let sent = ctx.sent(4, 26);
    let board = ctx.meeting(sent, 9, 17, 0);
    add(&mut v, mail(4, 26, &principale, "Convocation : conseil pédagogique", format!(
        "Madame, Monsieur,\n\nLe conseil pédagogique se réunira le {} à {}. Ordre du jour : projet d'établissement, \
         dotation horaire de la rentrée prochaine, sorties pédagogiques.\n\nIsabelle Roche\nPrincipale",
        fr_day(board), fr_time(board)))
        .to(&[&claire, &paul])
        .file(invitation(ctx, 3, sent, (board, 90), "Conseil pédagogique", "Salle du conseil", &secretariat,
            &[&claire, &paul, &person(ROOM, "Salle du conseil")])));

    let letter = "La lettre du numérique éducatif";
    add(&mut v, mail(3, 52, &drane, format!("{letter} — n° 42"),
        "La lettre du numérique éducatif — n° 42\n\n\
         À la une : la messagerie académique fait peau neuve. Webmail, agenda et annuaire sont désormais réunis.\n\n\
         Outil du mois : l'ENT et ses cahiers de textes partagés.\n\n\
         Formations : inscrivez-vous aux ateliers « Enseigner avec le numérique ».\n\n\
         Vous recevez cette lettre en tant que personnel de l'académie de démonstration.")
        .to(&[&claire, &paul])
        .html(format!("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{letter}</title></head>\n\
            <body style=\"font-family: Marianne, Arial, sans-serif; color: #161616\">\n\
            <h1 style=\"color: #000091\">{letter} — n° 42</h1>\n\
            <h2>À la une : la messagerie académique fait peau neuve</h2>\n\
            <p>Webmail, agenda et annuaire sont désormais réunis dans un seul service.</p>\n\
            <h2>Outil du mois</h2>\n<p>L'ENT et ses <strong>cahiers de textes partagés</strong>.</p>\n\
            <h2>Formations</h2>\n<p>Inscrivez-vous aux ateliers « Enseigner avec le numérique ».</p>\n\
            <hr>\n<p style=\"font-size: small\">Vous recevez cette lettre en tant que personnel de l'académie de démonstration.</p>\n\
            </body></html>\n")));

    add(
        &mut v,
        mail(
            3,
            19,
            &petit,
            "Question sur l'exposé d'histoire",
            "Bonjour Monsieur Durand,\n\nMa fille Chloé doit préparer un exposé sur la révolution industrielle. \
         Combien de temps doit-il durer, et peut-elle utiliser un diaporama ?\n\nBien cordialement,\nSophie Petit",
        )
        .to(&[&paul]),
    );

    add(
        &mut v,
        mail(
            2,
            44,
            &bernard,
            "Absence de Léo jeudi",
            "Bonjour Madame Martin,\n\nLéo sera absent jeudi matin pour un rendez-vous médical. Il rattrapera le cours \
         de français avec un camarade. Merci de votre compréhension.\n\nHélène Bernard",
        )
        .to(&[&claire])
        .cc(&[&cpe]),
    );

    add(&mut v, mail(2, 7, &garcia, "Demande de certificat de scolarité",
        "Bonjour,\n\nPourriez-vous me faire parvenir un certificat de scolarité pour ma fille Inès Garcia, en 6e B ? \
         Il m'est demandé par la caisse d'allocations familiales.\n\nMerci d'avance,\nJosé Garcia")
        .to(&[&secretariat]));

    add(
        &mut v,
        mail(
            1,
            31,
            &cpe,
            "Retards répétés — élève de 4e B",
            "Bonjour,\n\nThéo Girard (4e B) cumule six retards depuis le début du mois, toujours en première heure. \
         Je rencontre la famille mardi ; si vous avez des observations, merci de me les transmettre avant.\n\n\
         Nadia Benali\nConseillère principale d'éducation",
        )
        .to(&[&claire, &paul]),
    );

    add(&mut v, mail(0, 6, &paul, "Échange de salles jeudi",
        "Claire,\n\nPourrions-nous échanger nos salles jeudi en deuxième heure ? J'ai besoin du vidéoprojecteur de la \
         salle 204 pour les exposés.\n\nMerci !\nPaul")
        .to(&[&claire]));

    v
}

/// "2025-2026" gives "2026-2027".
fn school_year_next(year: &str) -> String {
    match year.split_once('-').and_then(|(a, b)| Some((a.parse::<i32>().ok()?, b.parse::<i32>().ok()?))) {
        Some((a, b)) => format!("{}-{}", a + 1, b + 1),
        None => year.to_owned(),
    }
}
