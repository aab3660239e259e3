// Package store is the SQL implementation of usermgmt.Store, through bun,
// over SQLite or PostgreSQL. It imports neither database's driver: those
// live in store/sqlite (pure Go, modernc.org/sqlite) and store/postgres
// (pgx), so a binary links only the one its host imports.
//
//	st, err := sqlite.Open(ctx, "data/app.db")         // store/sqlite
//	st, err := postgres.Open(ctx, "postgres://...")    // store/postgres
//	st, err := anydb.Open(ctx, dsn)                    // store/anydb: either, by the DSN
//	st, err := store.Open(ctx, dsn, []store.Driver{sqlite.Driver()})
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	m, err := usermgmt.New(usermgmt.Config{Store: st, ...})
//
// Open applies the embedded migrations (migrations/<dialect>/NNNN_*.sql),
// recording each in the schema_migrations table. Unique violations come back
// as usermgmt.ConflictOn("username" | "email" | "uuid" | "id", cause) and
// missing rows as usermgmt.ErrNotFound, never as driver errors: the Driver
// classifies the database's errors (Driver.Classify), the store answers them
// the same way on both. Times are stored in UTC with microsecond precision
// on both databases.
//
// The suite in store/storetest checks all of this; the package's tests run
// it on a SQLite file, on SQLite in memory and on PostgreSQL.
package store
