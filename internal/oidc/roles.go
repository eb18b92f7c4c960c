package oidc

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign"
)

// RoleMapping maps one value of the role claim to a role.
type RoleMapping struct {
	Value string
	Role  countersign.Role
}

func (m RoleMapping) String() string { return m.Value + "=" + string(m.Role) }

// DirectRoles is the mapping used when none is configured: each role's name
// to that role, the most powerful first, and approver, who may decide,
// before auditor, who only reads.
func DirectRoles() []RoleMapping {
	order := []countersign.Role{countersign.RoleAdmin, countersign.RoleApprover, countersign.RoleAuditor, countersign.RoleReviewer, countersign.RoleSubmitter}
	roles := make([]RoleMapping, len(order))
	for i, r := range order {
		roles[i] = RoleMapping{Value: string(r), Role: r}
	}
	return roles
}

// ParseRoles reads a role mapping written as VALUE=ROLE entries separated by
// commas, such as "cs-approvers=approver,cs-reviewers=reviewer"; earlier
// entries take precedence. Values cannot contain commas. Empty text is no
// mapping.
func ParseRoles(text string) ([]RoleMapping, error) {
	var roles []RoleMapping
	for _, entry := range strings.Split(text, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		// Role names have no "=", claim values might.
		i := strings.LastIndex(entry, "=")
		if i < 0 {
			return nil, fmt.Errorf("entry %q is not VALUE=ROLE", entry)
		}
		roles = append(roles, RoleMapping{Value: strings.TrimSpace(entry[:i]), Role: countersign.Role(strings.TrimSpace(entry[i+1:]))})
	}
	if err := checkRoles(roles); err != nil {
		return nil, err
	}
	return roles, nil
}

// checkRoles reports a mapping with an empty value or an unknown role, and a
// value mapped twice.
func checkRoles(roles []RoleMapping) error {
	seen := make(map[string]bool, len(roles))
	for _, m := range roles {
		switch {
		case m.Value == "":
			return fmt.Errorf("entry %q has no claim value", m)
		case !m.Role.Valid():
			return fmt.Errorf("entry %q: unknown role %q (roles: %s)", m, m.Role, roleList())
		case seen[m.Value]:
			return fmt.Errorf("entry %q: claim value %q is mapped twice", m, m.Value)
		}
		seen[m.Value] = true
	}
	return nil
}

func roleList() string {
	names := make([]string, len(countersign.Roles))
	for i, r := range countersign.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}
