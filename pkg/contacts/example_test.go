package contacts_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dossier-evidence/dossier/pkg/contacts"
	"github.com/dossier-evidence/dossier/pkg/identity"
)

// A contact list maps names to cards. A second key claiming a known name
// is refused with ErrConflict.
func ExampleBook_Add() {
	home, err := os.MkdirTemp("", "contacts-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	book, err := contacts.Open(home)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	bob, _ := identity.Generate("Bob Camilleri", "Attorney General, Valletta", nil, now)
	impostor, _ := identity.Generate("Bob Camilleri", "Somewhere else", nil, now)

	status, err := book.Add(context.Background(), "", bob.Card, now)
	fmt.Println(status, err)
	status, err = book.Add(context.Background(), "", bob.Card, now)
	fmt.Println(status, err)
	_, err = book.Add(context.Background(), "", impostor.Card, now)
	fmt.Println(errors.Is(err, contacts.ErrConflict))

	c, err := book.Get("bob camilleri")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Name, c.Card.Fingerprint() == bob.Fingerprint())
	// Output:
	// added <nil>
	// unchanged <nil>
	// true
	// Bob Camilleri true
}
