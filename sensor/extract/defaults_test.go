package extract

import (
	"testing"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/defaults"
)

func defaultsFile(t testing.TB) rules.File {
	t.Helper()
	return defaults.File()
}
