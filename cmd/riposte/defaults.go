package main

import (
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/defaults"
)

// defaultRuleFiles returns Riposte's embedded default rules.
func defaultRuleFiles() []rules.File { return []rules.File{defaults.File()} }
