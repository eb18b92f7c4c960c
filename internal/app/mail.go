package app

import (
	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/mailnotify"
)

// setupMail checks the mail configuration and makes the worker's e-mail
// notifier when an SMTP server is set; without one, mail stays off.
func (a *App) setupMail() error {
	if err := a.Config.CheckMail(); err != nil {
		return err
	}
	if !a.Config.MailEnabled() {
		return nil
	}
	to, groups, err := a.Config.MailRecipients()
	if err != nil {
		return err
	}
	n := &mailnotify.Notifier{
		Addr: a.Config.SMTPAddr, From: a.Config.MailFrom,
		Username: a.Config.SMTPUsername, Password: a.Config.SMTPPassword, Insecure: a.Config.SMTPInsecure,
		To: to, Groups: groups, TaskTypes: a.TaskTypes,
	}
	if err := n.Check(); err != nil {
		return err
	}
	a.mail = n
	return nil
}

// mailNotifier is the worker's e-mail notifier: nil (no mail) without an
// SMTP server.
func (a *App) mailNotifier() countersign.Notifier {
	if a.mail == nil {
		return nil
	}
	return a.mail
}
