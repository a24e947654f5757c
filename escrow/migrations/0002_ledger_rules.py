"""The ledger's rules, held by PostgreSQL itself so that no code path (a bug, a shell, raw SQL)
can break them. The service `escrow.ledger.journal_post` checks the same rules first, to give a
clear error; these are the last word.

1. Every journal balances per currency, and has entries: checked at COMMIT by deferrable
   constraint triggers, because a journal's entries are inserted one statement after another.
2. Journals and entries are never updated or deleted (corrections are new journals), and no
   entry can be added to a journal that an earlier transaction posted. Ledger accounts'
   identity (kind, owner, currency, ...) never changes either.
3. An entry's currency is its account's: a composite foreign key (account_id, currency).
4. A non-negative account never goes below zero, even under concurrent postings: after an
   entry that lowers such an account, the trigger locks the account's row (FOR NO KEY UPDATE) and
   then sums its entries. Under READ COMMITTED the sum runs on a fresh snapshot taken after the lock
   was granted, so it sees every posting committed before ours; two concurrent postings are
   thereby serialised and the second sees the first. REPEATABLE READ would sum on the old
   snapshot, so a lowering entry is refused there (SERIALIZABLE is safe: PostgreSQL's SSI aborts
   one of two such transactions).
"""

from django.db import migrations

FORWARD = r"""
-- 3. An entry's currency is its account's.
ALTER TABLE escrow_entry
    ADD CONSTRAINT entry_currency_is_account_currency
    FOREIGN KEY (account_id, currency) REFERENCES escrow_ledgeraccount (id, currency);

-- 2. Immutability of posted history.
CREATE FUNCTION escrow_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the ledger''s history is never changed; post a correcting journal instead.',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER escrow_entry_immutable
    BEFORE UPDATE OR DELETE ON escrow_entry
    FOR EACH ROW EXECUTE FUNCTION escrow_ledger_refuse_change();

CREATE TRIGGER escrow_journal_immutable
    BEFORE UPDATE OR DELETE ON escrow_journal
    FOR EACH ROW EXECUTE FUNCTION escrow_ledger_refuse_change();

-- An account's identity and its guard never change once it exists (its balance is not a column).
CREATE TRIGGER escrow_ledgeraccount_immutable
    BEFORE UPDATE ON escrow_ledgeraccount
    FOR EACH ROW EXECUTE FUNCTION escrow_ledger_refuse_change();

-- The transaction that posts a journal is recorded on it, whatever the client sent ...
CREATE FUNCTION escrow_journal_stamp_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.posted_txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END;
$$;

CREATE TRIGGER escrow_journal_stamp_transaction
    BEFORE INSERT ON escrow_journal
    FOR EACH ROW EXECUTE FUNCTION escrow_journal_stamp_transaction();

-- ... and entries may only join a journal inside that same transaction (pg_current_xact_id is
-- the top-level transaction's id, also inside savepoints).
CREATE FUNCTION escrow_entry_only_in_posting_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    journal_txid bigint;
BEGIN
    SELECT posted_txid INTO journal_txid FROM escrow_journal WHERE id = NEW.journal_id;
    IF journal_txid IS DISTINCT FROM pg_current_xact_id()::text::bigint THEN
        RAISE EXCEPTION 'Journal % is already posted; entries cannot be added to it. Post a correcting journal instead.',
            NEW.journal_id
            USING ERRCODE = 'restrict_violation', TABLE = 'escrow_entry';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER escrow_entry_only_in_posting_transaction
    BEFORE INSERT ON escrow_entry
    FOR EACH ROW EXECUTE FUNCTION escrow_entry_only_in_posting_transaction();

-- 1. Every journal has entries and balances per currency, checked at commit.
CREATE FUNCTION escrow_journal_check_balanced(checked_journal_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM escrow_entry WHERE journal_id = checked_journal_id) THEN
        RAISE EXCEPTION 'Journal % has no entries.', checked_journal_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_journal_balances', TABLE = 'escrow_journal';
    END IF;
    SELECT currency, sum(amount) AS total INTO unbalanced
        FROM escrow_entry WHERE journal_id = checked_journal_id
        GROUP BY currency HAVING sum(amount) <> 0
        ORDER BY currency LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'Journal % does not balance: its % entries sum to % minor units, not zero.',
            checked_journal_id, unbalanced.currency, unbalanced.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_journal_balances', TABLE = 'escrow_journal';
    END IF;
END;
$$;

CREATE FUNCTION escrow_journal_balances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM escrow_journal_check_balanced(NEW.id);
    RETURN NULL;
END;
$$;

CREATE FUNCTION escrow_entry_journal_balances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM escrow_journal_check_balanced(NEW.journal_id);
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER escrow_journal_balances
    AFTER INSERT ON escrow_journal
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION escrow_journal_balances();

CREATE CONSTRAINT TRIGGER escrow_entry_journal_balances
    AFTER INSERT ON escrow_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION escrow_entry_journal_balances();

-- 4. Non-negative accounts never go below zero.
CREATE FUNCTION escrow_entry_keep_non_negative() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account record;
    total numeric;
BEGIN
    SELECT non_negative, normal_balance INTO account FROM escrow_ledgeraccount WHERE id = NEW.account_id;
    -- Only an entry against the account's normal side can lower its balance.
    IF NOT account.non_negative
       OR (account.normal_balance = 'credit' AND NEW.amount < 0)
       OR (account.normal_balance = 'debit' AND NEW.amount > 0) THEN
        RETURN NULL;
    END IF;
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION 'Entries that lower a non-negative ledger account need READ COMMITTED or SERIALIZABLE isolation.'
            USING ERRCODE = 'invalid_transaction_state';
    END IF;
    -- NO KEY UPDATE: it queues lowering postings behind one another but, unlike FOR UPDATE,
    -- not behind the KEY SHARE locks that the entries' foreign key checks take (with which two
    -- raw inserts would deadlock).
    PERFORM 1 FROM escrow_ledgeraccount WHERE id = NEW.account_id FOR NO KEY UPDATE;
    SELECT coalesce(sum(amount), 0) INTO total FROM escrow_entry WHERE account_id = NEW.account_id;
    IF account.normal_balance = 'credit' THEN
        total := -total;
    END IF;
    IF total < 0 THEN
        RAISE EXCEPTION 'Ledger account % may not go below zero; this posting would leave % % minor units.',
            NEW.account_id, total, NEW.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_account_non_negative', TABLE = 'escrow_entry';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER escrow_entry_keep_non_negative
    AFTER INSERT ON escrow_entry
    FOR EACH ROW EXECUTE FUNCTION escrow_entry_keep_non_negative();
"""

BACKWARD = r"""
DROP TRIGGER escrow_entry_keep_non_negative ON escrow_entry;
DROP FUNCTION escrow_entry_keep_non_negative();
DROP TRIGGER escrow_entry_journal_balances ON escrow_entry;
DROP TRIGGER escrow_journal_balances ON escrow_journal;
DROP FUNCTION escrow_entry_journal_balances();
DROP FUNCTION escrow_journal_balances();
DROP FUNCTION escrow_journal_check_balanced(bigint);
DROP TRIGGER escrow_entry_only_in_posting_transaction ON escrow_entry;
DROP FUNCTION escrow_entry_only_in_posting_transaction();
DROP TRIGGER escrow_journal_stamp_transaction ON escrow_journal;
DROP FUNCTION escrow_journal_stamp_transaction();
DROP TRIGGER escrow_ledgeraccount_immutable ON escrow_ledgeraccount;
DROP TRIGGER escrow_journal_immutable ON escrow_journal;
DROP TRIGGER escrow_entry_immutable ON escrow_entry;
DROP FUNCTION escrow_ledger_refuse_change();
ALTER TABLE escrow_entry DROP CONSTRAINT entry_currency_is_account_currency;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("escrow", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD),
    ]
