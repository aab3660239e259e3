package files_test

import (
	"bytes"
	"fmt"

	"github.com/usermgmt/usermgmt/files"
)

func ExampleSafeName() {
	for _, name := range []string{"../../etc/passwd", `C:\Users\me\cv.pdf`, ".bashrc", "..", "report\u202efdp.exe"} {
		safe, err := files.SafeName(name)
		fmt.Printf("%q -> %q %v\n", name, safe, err)
	}
	// Output:
	// "../../etc/passwd" -> "passwd" <nil>
	// "C:\\Users\\me\\cv.pdf" -> "cv.pdf" <nil>
	// ".bashrc" -> "bashrc" <nil>
	// ".." -> "" files: the file name is empty or unusable
	// "report\u202efdp.exe" -> "reportfdp.exe" <nil>
}

func ExampleInitials() {
	fmt.Println(files.Initials("John Doe"), files.Initials("john_doe"), files.Initials("Jean-Luc"))
	// Output: JD JD J
}

func ExampleInspectImage() {
	// The 24 bytes of a PNG header claiming 100000x100000 pixels are all it
	// takes to refuse it: no pixel is decoded.
	head := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0")
	info, err := files.InspectImage(bytes.NewReader(head))
	fmt.Println(info.Format, info.Width, info.Height, err)
	// Output: png 100000 100000 <nil>
}
