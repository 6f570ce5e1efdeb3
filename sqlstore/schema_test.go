package sqlstore_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// column is what the two dialects' schemas must agree on: a column, its
// kind of type, whether it may be NULL, and its tables' indexes' columns.
type column struct {
	Type    string // "text", "integer" or "bytes"
	NotNull bool
}

// TestSchemasAgree: after every migration, SQLite and PostgreSQL have the
// same tables with the same columns, of the same kinds, equally nullable, and
// the same indexes: a migration written for one dialect only, or differently,
// fails here.
func TestSchemasAgree(t *testing.T) {
	t.Parallel()
	lite := storetest.Open(t, storetest.Config(t, "sqlite"))
	pg := storetest.Open(t, storetest.Config(t, "postgres"))
	liteCols, liteIndexes := sqliteSchema(t, sqlstore.WriteDB(lite))
	pgCols, pgIndexes := postgresSchema(t, sqlstore.WriteDB(pg))
	if len(liteCols) < 100 || len(liteIndexes) < 10 {
		t.Fatalf("read %d columns and %d indexes of SQLite: too few for the whole schema", len(liteCols), len(liteIndexes))
	}
	if diff := cmp.Diff(liteCols, pgCols); diff != "" {
		t.Errorf("columns (-sqlite +postgres):\n%s", diff)
	}
	if diff := cmp.Diff(liteIndexes, pgIndexes); diff != "" {
		t.Errorf("indexes (-sqlite +postgres):\n%s", diff)
	}
}

func sqliteSchema(t *testing.T, db *sql.DB) (map[string]column, map[string]string) {
	t.Helper()
	cols, indexes := map[string]column{}, map[string]string{}
	tables := queryStrings(t, db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'")
	for _, table := range tables {
		rows, err := db.Query(fmt.Sprintf("SELECT name, type, \"notnull\", pk FROM pragma_table_info('%s')", table))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, typ string
			var notNull, pk int
			if err := rows.Scan(&name, &typ, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			kind := map[string]string{"TEXT": "text", "INTEGER": "integer", "BLOB": "bytes", "BOOLEAN": "integer"}[strings.ToUpper(typ)]
			cols[table+"."+name] = column{Type: kind, NotNull: notNull == 1 || pk > 0 && kind != "integer"}
			if pk > 0 && kind == "integer" {
				// An INTEGER PRIMARY KEY is the row ID: never NULL.
				cols[table+"."+name] = column{Type: kind, NotNull: true}
			}
		}
		rows.Close()
		for _, index := range queryStrings(t, db, fmt.Sprintf("SELECT name FROM pragma_index_list('%s') WHERE origin = 'c'", table)) {
			indexes[index] = table + "(" + strings.Join(queryStrings(t, db, fmt.Sprintf("SELECT name FROM pragma_index_info('%s') ORDER BY seqno", index)), ", ") + ")"
		}
	}
	return cols, indexes
}

func postgresSchema(t *testing.T, db *sql.DB) (map[string]column, map[string]string) {
	t.Helper()
	cols, indexes := map[string]column{}, map[string]string{}
	rows, err := db.Query(`SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, name, typ, nullable string
		if err := rows.Scan(&table, &name, &typ, &nullable); err != nil {
			t.Fatal(err)
		}
		kind := map[string]string{"text": "text", "bigint": "integer", "integer": "integer", "boolean": "integer", "bytea": "bytes"}[typ]
		cols[table+"."+name] = column{Type: kind, NotNull: nullable == "NO"}
	}
	// Indexes made by CREATE INDEX, not those of constraints.
	irows, err := db.Query(`SELECT i.relname, t.relname, array_to_string(array(
			SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.ord), ', ')
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		WHERE t.relnamespace = 'public'::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`)
	if err != nil {
		t.Fatal(err)
	}
	defer irows.Close()
	for irows.Next() {
		var index, table, columns string
		if err := irows.Scan(&index, &table, &columns); err != nil {
			t.Fatal(err)
		}
		indexes[index] = table + "(" + columns + ")"
	}
	return cols, indexes
}

func queryStrings(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
