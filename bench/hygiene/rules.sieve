# Ten rules a member of staff might have (R5 with hygiene, bench/r5_hygiene.py).
# The same script runs in Ardoise (put over ManageSieve) and in Dovecot (Pigeonhole).
# None matches the benchmark's messages: every rule is evaluated, the message stays
# in the Inbox (counted there on both sides).
require ["fileinto", "mailbox", "imap4flags", "envelope", "body"];

if header :contains "subject" "reunion" { fileinto :create "Reunions"; stop; }
if address :is "from" "proviseur@ac-test.fr" { fileinto :create "Direction"; stop; }
if header :contains "list-id" "parents.ac-test.fr" { fileinto :create "Parents"; stop; }
if header :contains "subject" "[conseil de classe]" { fileinto :create "Conseils"; stop; }
if address :domain :is "from" "education.gouv.fr" { fileinto :create "Ministere"; stop; }
if envelope :domain :is "from" "facturation.example.com" { fileinto :create "Factures"; stop; }
if header :contains "x-priority" "1 (Highest)" { addflag "\\Flagged"; }
if address :localpart :is "to" "secretariat" { fileinto :create "Secretariat"; stop; }
if header :contains "subject" ["newsletter", "lettre d'information"] { fileinto :create "Lettres"; stop; }
if body :text :contains "convocation au jury" { fileinto :create "Jurys"; stop; }
