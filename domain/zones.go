package domain

// TimeZone returns the IANA time zone of a member state's capital: the zone
// in which "today" is counted for acts done in that state (a deadline ends
// at the end of its last day where the act is to be done). Every Dublin
// state has a single zone on the European mainland or islands. Unknown codes
// return "UTC".
func TimeZone(memberState string) string {
	switch memberState {
	case "PT":
		return "Europe/Lisbon"
	case "IE":
		return "Europe/Dublin"
	case "IS":
		return "Atlantic/Reykjavik"
	case "FI":
		return "Europe/Helsinki"
	case "EE":
		return "Europe/Tallinn"
	case "LV":
		return "Europe/Riga"
	case "LT":
		return "Europe/Vilnius"
	case "RO":
		return "Europe/Bucharest"
	case "BG":
		return "Europe/Sofia"
	case "GR":
		return "Europe/Athens"
	case "CY":
		return "Asia/Nicosia"
	case "AT":
		return "Europe/Vienna"
	case "BE":
		return "Europe/Brussels"
	case "CH":
		return "Europe/Zurich"
	case "CZ":
		return "Europe/Prague"
	case "DE":
		return "Europe/Berlin"
	case "DK":
		return "Europe/Copenhagen"
	case "ES":
		return "Europe/Madrid"
	case "FR":
		return "Europe/Paris"
	case "HR":
		return "Europe/Zagreb"
	case "HU":
		return "Europe/Budapest"
	case "IT":
		return "Europe/Rome"
	case "LI":
		return "Europe/Vaduz"
	case "LU":
		return "Europe/Luxembourg"
	case "MT":
		return "Europe/Malta"
	case "NL":
		return "Europe/Amsterdam"
	case "NO":
		return "Europe/Oslo"
	case "PL":
		return "Europe/Warsaw"
	case "SE":
		return "Europe/Stockholm"
	case "SI":
		return "Europe/Ljubljana"
	case "SK":
		return "Europe/Bratislava"
	}
	return "UTC"
}
