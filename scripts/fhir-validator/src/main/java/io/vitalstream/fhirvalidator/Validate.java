package io.vitalstream.fhirvalidator;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Validates FHIR R4 resources with HAPI's FhirInstanceValidator (offline: the core R4 profiles,
 * common code systems, in-memory terminology; LOINC and SNOMED codes cannot be checked offline
 * and give warnings).
 *
 * <pre>
 *   java -cp 'jars/*' io.vitalstream.fhirvalidator.Validate [--support FILE]... FILE...
 * </pre>
 *
 * FILE is a Bulk Data NDJSON file (*.ndjson: one resource per line) or one JSON resource (a
 * Bundle, say). --support loads CodeSystem/ValueSet/StructureDefinition resources (JSON or
 * NDJSON) the inputs use, e.g. a local code system. Prints one JSON object per message of
 * severity warning or worse, then one summary object. Exit 0: no errors; 1: errors; 2: usage or
 * unreadable input.
 */
public final class Validate {
    private Validate() {}

    public static void main(String[] args) throws IOException {
        List<Path> support = new ArrayList<>();
        List<Path> inputs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--support") && i + 1 < args.length) {
                support.add(Path.of(args[++i]));
            } else if (args[i].startsWith("-")) {
                usage("unknown option " + args[i]);
            } else {
                inputs.add(Path.of(args[i]));
            }
        }
        if (inputs.isEmpty()) {
            usage("no input files");
        }
        FhirContext ctx = FhirContext.forR4();
        PrePopulatedValidationSupport local = new PrePopulatedValidationSupport(ctx);
        for (Path p : support) {
            for (String json : resources(p)) {
                IBaseResource r = ctx.newJsonParser().parseResource(json);
                local.addResource(r);
            }
        }
        ValidationSupportChain chain = new ValidationSupportChain(
                local,
                new DefaultProfileValidationSupport(ctx),
                new CommonCodeSystemsTerminologyService(ctx),
                new InMemoryTerminologyServerValidationSupport(ctx),
                new SnapshotGeneratingValidationSupport(ctx));
        FhirValidator validator = ctx.newValidator().registerValidatorModule(new FhirInstanceValidator(chain));

        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        int resources = 0, errors = 0, warnings = 0;
        for (Path p : inputs) {
            List<String> items = resources(p);
            for (int i = 0; i < items.size(); i++) {
                resources++;
                ValidationResult result = validator.validateWithResult(items.get(i));
                for (SingleValidationMessage m : result.getMessages()) {
                    ResultSeverityEnum s = m.getSeverity();
                    boolean error = s == ResultSeverityEnum.ERROR || s == ResultSeverityEnum.FATAL;
                    if (!error && s != ResultSeverityEnum.WARNING) {
                        continue;
                    }
                    if (error) errors++; else warnings++;
                    out.println("{\"file\":" + str(p.getFileName().toString()) + ",\"item\":" + (i + 1)
                            + ",\"severity\":" + str(s.getCode()) + ",\"location\":" + str(m.getLocationString())
                            + ",\"message_id\":" + str(m.getMessageId()) + ",\"message\":" + str(m.getMessage()) + "}");
                }
            }
        }
        out.println("{\"summary\":{\"files\":" + inputs.size() + ",\"resources\":" + resources
                + ",\"errors\":" + errors + ",\"warnings\":" + warnings + "}}");
        System.exit(errors == 0 ? 0 : 1);
    }

    /** The resources of a file: each non-blank line of *.ndjson, else the whole file. */
    private static List<String> resources(Path p) throws IOException {
        if (!Files.isReadable(p)) {
            usage("cannot read " + p);
        }
        String text = Files.readString(p, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        if (p.toString().endsWith(".ndjson")) {
            for (String line : text.split("\n")) {
                if (!line.isBlank()) out.add(line);
            }
        } else {
            out.add(text);
        }
        return out;
    }

    private static String str(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    private static void usage(String why) {
        System.err.println("fhir-validator: " + why);
        System.err.println("usage: Validate [--support CONFORMANCE.json|.ndjson]... FILE.ndjson|FILE.json...");
        System.exit(2);
    }
}
