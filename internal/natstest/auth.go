package natstest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// NKeyUser creates a user NKey, writes its seed to a file and returns the
// file and the public key, which a server lists in Options.Nkeys.
func NKeyUser(t testing.TB) (seedFile, publicKey string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatalf("create user NKey: %v", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	publicKey, err = kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	seedFile = filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return seedFile, publicKey
}

// Operator is a decentralized authentication setup: an operator that signs
// a system account and one account with JetStream, whose JWTs a memory
// resolver serves, and a user of that account.
type Operator struct {
	// CredsFile is the user's credentials file: the user JWT and NKey seed.
	CredsFile string
	claims    *jwt.OperatorClaims
	accounts  map[string]string // public key to JWT
	system    string
}

// NewOperator creates the operator, account and user, with JetStream enabled
// for the account, and writes the user's credentials file.
func NewOperator(t testing.TB) *Operator {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	opKey, err := nkeys.CreateOperator()
	must(err)
	opPub, err := opKey.PublicKey()
	must(err)
	opClaims := jwt.NewOperatorClaims(opPub)
	opClaims.Name = "riposte-test"

	// JetStream needs a system account in operator mode.
	sysKey, err := nkeys.CreateAccount()
	must(err)
	sysPub, err := sysKey.PublicKey()
	must(err)
	sysClaims := jwt.NewAccountClaims(sysPub)
	sysClaims.Name = "SYS"
	sysJWT, err := sysClaims.Encode(opKey)
	must(err)
	opClaims.SystemAccount = sysPub

	accKey, err := nkeys.CreateAccount()
	must(err)
	accPub, err := accKey.PublicKey()
	must(err)
	accClaims := jwt.NewAccountClaims(accPub)
	accClaims.Name = "riposte"
	accClaims.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	accJWT, err := accClaims.Encode(opKey)
	must(err)

	userKey, err := nkeys.CreateUser()
	must(err)
	userPub, err := userKey.PublicKey()
	must(err)
	userClaims := jwt.NewUserClaims(userPub)
	userClaims.Name = "riposte-sensor"
	userJWT, err := userClaims.Encode(accKey)
	must(err)
	seed, err := userKey.Seed()
	must(err)
	creds, err := jwt.FormatUserConfig(userJWT, seed)
	must(err)
	file := filepath.Join(t.TempDir(), "user.creds")
	must(os.WriteFile(file, creds, 0o600))
	return &Operator{CredsFile: file, claims: opClaims, system: sysPub,
		accounts: map[string]string{sysPub: sysJWT, accPub: accJWT}}
}

// Configure sets the server options that trust the operator and resolve its
// account from memory.
func (o *Operator) Configure(t testing.TB, opts *server.Options) {
	t.Helper()
	resolver := &server.MemAccResolver{}
	for account, accountJWT := range o.accounts {
		if err := resolver.Store(account, accountJWT); err != nil {
			t.Fatalf("store account JWT: %v", err)
		}
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{o.claims}
	opts.AccountResolver = resolver
	opts.SystemAccount = o.system
}
