// Package store is the SQL implementation of usermgmt.Store, over SQLite
// (pure Go, modernc.org/sqlite) or PostgreSQL (pgx), through bun.
//
//	st, err := store.Open(ctx, "sqlite://data/app.db")
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	m, err := usermgmt.New(usermgmt.Config{Store: st, ...})
//
// Open applies the embedded migrations (migrations/<dialect>/NNNN_*.sql),
// recording each in the schema_migrations table. Unique violations come back
// as usermgmt.ConflictOn("username" | "email" | "uuid" | "id", cause) and
// missing rows as usermgmt.ErrNotFound, never as driver errors. Times are
// stored in UTC with microsecond precision on both databases.
//
// The suite in store/storetest checks all of this; the package's tests run
// it on a SQLite file, on SQLite in memory and on PostgreSQL.
package store
