-- Ardoise metadata schema, version 12: indexes that answer the login
-- throttle's questions without walking an address's whole history.
-- "When did this account last log in from this address" (MAX(id) with
-- result = 'ok') and "how many failures since then" were range scans over
-- every journal row of the (account, address) pair or of the address: a
-- school behind one NAT address, or a client reconnecting every minute,
-- made each login slower than the one before (R2 in BENCHMARKS.md: 2,000
-- logins/s falling to 800 within a minute). With the result and the id in
-- the index, both are a descent to the newest 'ok' row plus the failures
-- after it.
CREATE INDEX login_journal_account_result ON login_journal(account_id, ip, result, id);
CREATE INDEX login_journal_ip_result ON login_journal(ip, result, id);
-- They replace the (.., at) indexes, which the planner kept choosing for the
-- failure count although they make it walk the whole window.
DROP INDEX login_journal_account;
DROP INDEX login_journal_ip;
