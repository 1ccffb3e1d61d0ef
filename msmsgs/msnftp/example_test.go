package msnftp_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemkit/messenger/msmsgs/msnftp"
)

// Example sends a file from Alice to Bob on loopback. The conversation is
// reduced to passing invitation messages; msmsgs sends them as MSG
// payloads in the switchboard (see Invitation.Header and FromHeader).
func Example() {
	ctx := context.Background()
	downloads, _ := os.MkdirTemp("", "downloads")
	defer os.RemoveAll(downloads)

	// Alice: one port range and Sender for all her transfers. A device
	// uses DefaultPortLow-DefaultPortHigh (6891-6900); the example stays
	// off them so it never competes with a running Messenger.
	ports, err := msnftp.NewPorts("127.0.0.1", 26891, 26900)
	if err != nil {
		log.Fatal(err)
	}
	alice := &msnftp.Sender{Ports: ports, Address: "127.0.0.1"}
	// Bob: a Receiver for his downloads folder.
	bob := &msnftp.Receiver{Email: "bob@example.com", Dir: downloads, MaxSize: 100 << 20}

	// Alice offers the file: INVITE.
	content := "hello, bob\n"
	offer, _ := msnftp.NewOffer("../notes.txt", int64(len(content)))
	msg := offer.Message()

	// Bob gets the INVITE, checks it and accepts (or sends Cancel(CancelReject)).
	bobOffer, err := msnftp.ParseMessage(msg)
	if err != nil {
		log.Fatal(err)
	}
	if err := bob.Check(bobOffer); err != nil {
		msg = bobOffer.Cancel(msnftp.CancelCodeFor(err)).Message()
		return
	}
	msg = bobOffer.ReceiverAccept().Message()

	// Alice gets Bob's ACCEPT, listens, and answers with her ACCEPT.
	if _, err := msnftp.ParseMessage(msg); err != nil {
		log.Fatal(err)
	}
	l, err := alice.Listen(ctx, offer)
	if err != nil {
		log.Fatal(err)
	}
	msg = l.Accept().Message()
	served := make(chan error, 1)
	go func() { served <- l.Serve(ctx, strings.NewReader(content)) }()

	// Bob connects and receives.
	accept, err := msnftp.ParseMessage(msg)
	if err != nil {
		log.Fatal(err)
	}
	path, err := bob.Receive(ctx, bobOffer, accept)
	if err != nil {
		log.Fatal(err)
	}
	if err := <-served; err != nil {
		log.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	fmt.Printf("%s: %q\n", filepath.Base(path), data)
	// Output: notes.txt: "hello, bob\n"
}
