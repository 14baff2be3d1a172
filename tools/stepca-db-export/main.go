// stepca-db-export reads a step-ca 0.19 database and writes what
// `stepca migrate` imports as JSON lines on stdout. It is ours (not
// upstream code), built from Debian's Go packages in GOPATH mode by
// scripts/build-db-export.sh, and never linked into the module.
//
//   stepca-db-export --type badgerv2|badger|badgerv1|bbolt|mysql --source SOURCE [--database NAME]
//
// SOURCE is what ca.json's db.dataSource says: a directory for badger, a
// file for bbolt, a DSN for MySQL. Badger and bbolt are opened on a private
// copy (both write to what they open, badger even to a directory that holds
// no database), so the old CA's files are never changed; the copy is removed
// before exit.
//
// One JSON object per line, each with "kind":
//   x509_cert           serial, der (base64), provisioner {id,name,type} or null
//   revoked_x509_cert   serial, info (step-ca's RevokedCertificateInfo, as stored)
//   revoked_ssh_cert    serial, info
//   acme_account        id, account (as stored: id, key, contact, status,
//                       createdAt, deactivatedAt), keyId (the key index entry
//                       naming this account, "" when none)
//   acme_eab_key        id, provisionerId, reference, accountId, boundAt (never the key)
//   table               name, count: the other step-ca tables, counted only
//   end                 counts per kind; always the last line, so a reader
//                       can tell a complete export from a cut one
// Exit status 0 only after "end"; 2 for a source that is not a step-ca
// database (nothing written on stdout then), 1 for other errors.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/smallstep/nosql"
	"github.com/smallstep/nosql/database"
)

// The step-ca 0.19 tables (certificates/db/db.go, acme/db/nosql/nosql.go).
const (
	tCerts        = "x509_certs"
	tCertsData    = "x509_certs_data"
	tRevoked      = "revoked_x509_certs"
	tRevokedSSH   = "revoked_ssh_certs"
	tAccounts     = "acme_accounts"
	tAccountByKey = "acme_keyID_accountID_index"
	tEABKeys      = "acme_external_account_keys"
)

// Counted, not exported: short-lived ACME objects and indexes that follow
// from the exported records, SSH certificates, spent tokens.
var countedTables = []string{
	"used_ott", "ssh_certs", "ssh_hosts", "ssh_users", "ssh_host_principals",
	"acme_authzs", "acme_challenges", "nonces", "acme_orders",
	"acme_account_orders_index", "acme_certs", "acme_serial_certs_index",
	"acme_external_account_keyID_reference_index",
	"acme_external_account_keyID_provisionerID_index",
}

type notStepCA struct{ msg string }

func (e notStepCA) Error() string { return e.msg }

func main() {
	typ := flag.String("type", "badgerv2", "ca.json db.type")
	source := flag.String("source", "", "ca.json db.dataSource")
	dbName := flag.String("database", "", "ca.json db.database (MySQL)")
	flag.Parse()
	if *source == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: stepca-db-export --type TYPE --source SOURCE [--database NAME]")
		os.Exit(1)
	}
	err := run(strings.ToLower(*typ), *source, *dbName, os.Stdout)
	var ns notStepCA
	switch {
	case errors.As(err, &ns):
		fmt.Fprintln(os.Stderr, "stepca-db-export:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "stepca-db-export:", err)
		os.Exit(1)
	}
}

func run(typ, source, dbName string, stdout io.Writer) error {
	var opts []database.Option
	open := source
	switch typ {
	case "badger", "badgerv1", "badgerv2":
		st, err := os.Stat(source)
		if err != nil {
			return notStepCA{fmt.Sprintf("%s: %v", source, err)}
		}
		if !st.IsDir() {
			return notStepCA{source + ": not a directory (badger keeps its database in one)"}
		}
		if _, err := os.Stat(filepath.Join(source, "MANIFEST")); err != nil {
			return notStepCA{source + ": no MANIFEST: not a badger database"}
		}
		tmp, err := ioutil.TempDir("", "stepca-db-export-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		open = filepath.Join(tmp, "db")
		if err := copyTree(source, open); err != nil {
			return err
		}
	case "bbolt":
		st, err := os.Stat(source)
		if err != nil {
			return notStepCA{fmt.Sprintf("%s: %v", source, err)}
		}
		if !st.Mode().IsRegular() {
			return notStepCA{source + ": not a file (bbolt keeps its database in one)"}
		}
		tmp, err := ioutil.TempDir("", "stepca-db-export-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		open = filepath.Join(tmp, "db")
		if err := copyFile(source, open, st.Mode()); err != nil {
			return err
		}
	case "mysql":
		opts = append(opts, nosql.WithDatabase(dbName))
	default:
		return fmt.Errorf("database type %q is not supported (badgerv2, badger, badgerv1, bbolt, mysql)", typ)
	}

	db, err := nosql.New(typ, open, opts...)
	if err != nil && typ == "mysql" {
		// A server that cannot be reached says nothing about what it holds.
		return fmt.Errorf("cannot open the MySQL database: %v", err)
	}
	if err != nil {
		return notStepCA{fmt.Sprintf("%s: cannot open as %s: %v", source, typ, err)}
	}
	defer db.Close()

	// Everything is read before the first line is written, so an error
	// leaves stdout empty rather than cut.
	tables := map[string][]*database.Entry{}
	found := 0
	for _, t := range append([]string{tCerts, tCertsData, tRevoked, tRevokedSSH, tAccounts, tAccountByKey, tEABKeys}, countedTables...) {
		entries, err := db.List([]byte(t))
		switch {
		case err == nil:
			found++
			tables[t] = entries
		case database.IsErrNotFound(err):
		default:
			return fmt.Errorf("reading table %s: %v", t, err)
		}
	}
	if _, ok := tables[tCerts]; !ok {
		shown := source
		if typ == "mysql" {
			// a DSN may carry a password before the '@'
			shown = "database " + dbName + " at " + source[strings.LastIndex(source, "@")+1:]
		}
		return notStepCA{fmt.Sprintf("%s: a %s database without step-ca's %s table: not a step-ca database", shown, typ, tCerts)}
	}

	w := bufio.NewWriter(stdout)
	counts := map[string]int{}
	emit := func(kind string, v map[string]interface{}) error {
		v["kind"] = kind
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		counts[kind]++
		w.Write(b)
		return w.WriteByte('\n')
	}

	provisioners := map[string]json.RawMessage{}
	for _, e := range tables[tCertsData] {
		var d struct {
			Provisioner json.RawMessage `json:"provisioner"`
		}
		if json.Unmarshal(e.Value, &d) == nil && len(d.Provisioner) > 0 {
			provisioners[string(e.Key)] = d.Provisioner
		}
	}
	for _, e := range sorted(tables[tCerts]) {
		var prov interface{}
		if p, ok := provisioners[string(e.Key)]; ok {
			prov = p
		}
		if err := emit("x509_cert", map[string]interface{}{
			"serial": string(e.Key), "der": base64.StdEncoding.EncodeToString(e.Value), "provisioner": prov,
		}); err != nil {
			return err
		}
	}
	for _, kt := range [][2]string{{"revoked_x509_cert", tRevoked}, {"revoked_ssh_cert", tRevokedSSH}} {
		for _, e := range sorted(tables[kt[1]]) {
			if err := emit(kt[0], map[string]interface{}{"serial": string(e.Key), "info": raw(e.Value)}); err != nil {
				return err
			}
		}
	}
	keyOf := map[string]string{}
	for _, e := range tables[tAccountByKey] {
		keyOf[string(e.Value)] = string(e.Key)
	}
	for _, e := range sorted(tables[tAccounts]) {
		if err := emit("acme_account", map[string]interface{}{
			"id": string(e.Key), "account": raw(e.Value), "keyId": keyOf[string(e.Key)],
		}); err != nil {
			return err
		}
	}
	for _, e := range sorted(tables[tEABKeys]) {
		var k struct {
			ProvisionerID string          `json:"provisionerID"`
			Reference     string          `json:"reference"`
			AccountID     string          `json:"accountID"`
			BoundAt       json.RawMessage `json:"boundAt"`
		}
		_ = json.Unmarshal(e.Value, &k)
		if err := emit("acme_eab_key", map[string]interface{}{
			"id": string(e.Key), "provisionerId": k.ProvisionerID, "reference": k.Reference,
			"accountId": k.AccountID, "boundAt": raw(k.BoundAt),
		}); err != nil {
			return err
		}
	}
	for _, t := range countedTables {
		if n := len(tables[t]); n > 0 {
			if err := emit("table", map[string]interface{}{"name": t, "count": n}); err != nil {
				return err
			}
		}
	}
	total := map[string]int{}
	for k, v := range counts {
		total[k] = v
	}
	if err := emit("end", map[string]interface{}{"counts": total}); err != nil {
		return err
	}
	return w.Flush()
}

// raw passes a stored JSON value through; a value that is not JSON is
// passed as a string, for the importer to refuse with its serial or id.
func raw(b []byte) interface{} {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	return string(b)
}

func sorted(entries []*database.Entry) []*database.Entry {
	sort.Slice(entries, func(i, j int) bool { return string(entries[i].Key) < string(entries[j].Key) })
	return entries
}

func copyTree(from, to string) error {
	return filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(dst, 0o700)
		case info.Mode().IsRegular():
			return copyFile(p, dst, info.Mode())
		}
		return nil // badger writes no links or devices
	})
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode.Perm()|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
