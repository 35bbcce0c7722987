package graph

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/i18n"
)

// CodeInvalidCharacter is the user error for text that contains a NUL
// character or is not UTF-8.
const CodeInvalidCharacter = "INVALID_CHARACTER"

// textInput refuses text no database can keep: a NUL character, which
// PostgreSQL refuses (the request failed as an internal error) and which
// ended SQLite's LIKE pattern (a search for it matched everything), and
// bytes that are not UTF-8, which PostgreSQL refuses too (a GET request
// can carry them). It looks once at every string a client sends, in the
// variables and in the document's own values, whatever the field and the
// transport, so no domain function has to.
type textInput struct{}

func (textInput) ExtensionName() string                   { return "TextInput" }
func (textInput) Validate(graphql.ExecutableSchema) error { return nil }

func (textInput) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	for name, v := range oc.Variables {
		if path, bad := badText(v, []string{name}); bad {
			return invalidCharacter(ctx, path, nil)
		}
	}
	var found *ast.Value
	var inSet func(ast.SelectionSet)
	inArgs := func(args ast.ArgumentList) {
		for _, a := range args {
			if found == nil && badValue(a.Value) {
				found = a.Value
			}
		}
	}
	inDirectives := func(ds ast.DirectiveList) {
		for _, d := range ds {
			inArgs(d.Arguments)
		}
	}
	inSet = func(set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				inArgs(s.Arguments)
				inDirectives(s.Directives)
				inSet(s.SelectionSet)
			case *ast.InlineFragment:
				inDirectives(s.Directives)
				inSet(s.SelectionSet)
			case *ast.FragmentSpread:
				inDirectives(s.Directives)
			}
		}
	}
	if oc.Doc != nil {
		for _, op := range oc.Doc.Operations {
			inDirectives(op.Directives)
			inSet(op.SelectionSet)
		}
		for _, f := range oc.Doc.Fragments {
			inSet(f.SelectionSet)
		}
	}
	if found != nil {
		return invalidCharacter(ctx, nil, found.Position)
	}
	return nil
}

func badString(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)
}

// badText finds a bad string in a variable's value, returning its path.
func badText(v any, path []string) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return path, badString(v)
	case map[string]any:
		for k, x := range v {
			if p, bad := badText(x, append(path, k)); bad {
				return p, true
			}
		}
	case []any:
		for _, x := range v {
			if p, bad := badText(x, path); bad {
				return p, true
			}
		}
	}
	return nil, false
}

// badValue finds a bad string among a literal's values.
func badValue(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if (v.Kind == ast.StringValue || v.Kind == ast.BlockValue || v.Kind == ast.EnumValue) && badString(v.Raw) {
		return true
	}
	for _, c := range v.Children {
		if badValue(c.Value) {
			return true
		}
	}
	return false
}

// invalidCharacter is the error for bad text, in the shape the error
// presenter gives user errors outside a payload; field is the path in
// the variables.
func invalidCharacter(ctx context.Context, field []string, pos *ast.Position) *gqlerror.Error {
	err := &gqlerror.Error{
		Message: i18n.Text(i18n.Language(ctx), CodeInvalidCharacter, nil),
		Extensions: map[string]any{
			"code":          apperr.CodeBadUserInput,
			"userErrorCode": CodeInvalidCharacter,
		},
	}
	// As gqlgen's own errors about a variable's value.
	if field != nil {
		err.Path = ast.Path{ast.PathName("variable")}
		for _, f := range field {
			err.Path = append(err.Path, ast.PathName(f))
		}
	}
	if pos != nil {
		err.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	return err
}
