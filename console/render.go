package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
)

// page is what every template gets: the layout's parts and the page's own
// Data.
type page struct {
	Title string
	// Nav is the section of the navigation to mark current.
	Nav string
	// Operator is the signed-in operator (nil on the sign-in page); CSRF
	// the token forms carry.
	Operator *chargedesk.Operator
	CSRF     string
	// Flash is a one-line message above the page ("Ticket resolved.").
	Flash string
	Data  any
}

// Can reports whether the page's operator has role need (templates hide
// what the operator may not do; the handlers refuse it anyway).
func (p page) Can(need string) bool {
	return p.Operator != nil && p.Operator.Role.Allows(chargedesk.Role(need))
}

// pages holds one template set per page: the layout with that page's
// "content".
type pages struct {
	sets map[string]*template.Template
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"ago":   ago,
	"lower": strings.ToLower,
	"statusClass": func(s chargedesk.ConnectorStatus) string {
		switch s {
		case chargedesk.StatusAvailable:
			return "ok"
		case chargedesk.StatusFaulted, chargedesk.StatusUnavailable:
			return "bad"
		case "":
			return "unknown"
		}
		return "busy"
	},
	"query": func(pairs ...string) template.URL {
		v := url.Values{}
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i+1] != "" {
				v.Set(pairs[i], pairs[i+1])
			}
		}
		return template.URL("?" + v.Encode())
	},
}

// ago says how long before now t was, shortly ("3 min ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func parsePages() (*pages, error) {
	layout, err := fs.ReadFile(assets, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	entries, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		body, err := fs.ReadFile(assets, e)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		p.sets[name] = t
	}
	return p, nil
}

// render writes page name with status. A template error is a bug: it is
// answered 500 without a half-written page.
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data page) {
	t := p.sets[name]
	var b bytes.Buffer
	if t == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		http.Error(w, "the page could not be drawn: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// show renders a page for the signed-in operator of r.
func (c *Console) show(w http.ResponseWriter, r *http.Request, name, nav, title string, data any) {
	si := operatorOf(r.Context())
	c.pages.render(w, r, http.StatusOK, name, page{Title: title, Nav: nav, Operator: si.op, CSRF: csrfOf(si),
		Flash: r.URL.Query().Get("done"), Data: data})
}

func csrfOf(si signedIn) string {
	if si.sess == nil {
		return ""
	}
	return si.sess.CSRF
}

// fail answers an error: a page for a browser, JSON for a script (a live
// view or a form sent with fetch).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	if strings.Contains(r.Header.Get("Accept"), "application/json") || r.Header.Get("X-CSRF-Token") != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`+"\n", strconv.Itoa(status), msg)
		return
	}
	si := operatorOf(r.Context())
	c.pages.render(w, r, status, "error", page{Title: http.StatusText(status), Operator: si.op, CSRF: csrfOf(si),
		Data: map[string]any{"Status": status, "Message": msg}})
}

// failErr answers a store or command error with the status its code
// means.
func (c *Console) failErr(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	msg := "Something went wrong on our side; it has been logged."
	switch chargedesk.ErrorCode(err) {
	case chargedesk.ENOTFOUND:
		status, msg = http.StatusNotFound, chargedesk.ErrorMessage(err)
	case chargedesk.EINVALID:
		status, msg = http.StatusBadRequest, chargedesk.ErrorMessage(err)
	case chargedesk.ECONFLICT:
		status, msg = http.StatusConflict, chargedesk.ErrorMessage(err)
	default:
		c.log.Error("console: request failed", "path", r.URL.Path, "err", err)
	}
	c.fail(w, r, status, msg)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.session(r); !ok && r.Method == http.MethodGet {
		http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	c.fail(w, r, http.StatusNotFound, "There is no such page.")
}

func itoa(n int) string { return strconv.Itoa(n) }
