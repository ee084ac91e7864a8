package main

import "github.com/riposte-sec/riposte/rules"

// defaultRuleFiles returns Riposte's embedded default rules.
// TODO: return the embedded default rules once the rules package ships them.
func defaultRuleFiles() []rules.File { return nil }
