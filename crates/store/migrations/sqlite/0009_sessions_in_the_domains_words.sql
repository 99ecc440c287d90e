-- Sessions are kept in the domain's own form (crates/domain/src/model.rs) instead of
-- RP API v2's: the request names a level, a signature protocol and an interaction with its
-- text, and a completed session keeps its outcome instead of v2's status body. Rows already
-- in the new form are left alone.
UPDATE sessions SET request = json_object(
    'relying_party_name', json_extract(request, '$.relying_party_name'),
    'level', json_extract(request, '$.certificate_level'),
    'protocol', json(CASE
        WHEN json_extract(request, '$.hash') IS NULL THEN 'null'
        ELSE json_object(
            'scheme', 'pkcs1v15-digest',
            'digest_algorithm', CASE json_extract(request, '$.hash_type')
                WHEN 'SHA256' THEN 'SHA-256'
                WHEN 'SHA384' THEN 'SHA-384'
                ELSE 'SHA-512'
            END,
            'digest', json_extract(request, '$.hash'))
    END),
    'interaction', json(CASE
        WHEN json_extract(request, '$.interaction') IS NULL THEN 'null'
        ELSE json_object(
            'kind', json_extract(request, '$.interaction.type'),
            'text', coalesce(json_extract(request, '$.interaction.displayText60'),
                             json_extract(request, '$.interaction.displayText200')))
    END),
    'verification_code', json_extract(request, '$.verification_code'),
    'code_choices', json(coalesce(json_extract(request, '$.code_choices'), '[]')),
    'ignored_properties', json(coalesce(json_extract(request, '$.ignored_properties'), '[]')))
WHERE json_extract(request, '$.certificate_level') IS NOT NULL;

UPDATE sessions SET result = json_object(
    'endResult', json_extract(result, '$.result.endResult'),
    'documentNumber', json_extract(result, '$.result.documentNumber'),
    'signature', json(CASE
        WHEN json_extract(result, '$.signature') IS NULL THEN 'null'
        ELSE json_object(
            'value', json_extract(result, '$.signature.value'),
            'algorithm', json_object(
                'scheme', 'pkcs1v15',
                'digest', CASE json_extract(result, '$.signature.algorithm')
                    WHEN 'sha256WithRSAEncryption' THEN 'SHA-256'
                    WHEN 'sha384WithRSAEncryption' THEN 'SHA-384'
                    ELSE 'SHA-512'
                END))
    END),
    'certificate', json(CASE
        WHEN json_extract(result, '$.cert') IS NULL THEN 'null'
        ELSE json_object(
            'der', json_extract(result, '$.cert.value'),
            'level', json_extract(result, '$.cert.certificateLevel'))
    END),
    'interactionUsed', json_extract(result, '$.interactionFlowUsed'),
    'ignoredProperties', json(coalesce(json_extract(result, '$.ignoredProperties'), '[]')))
WHERE result IS NOT NULL AND json_extract(result, '$.state') IS NOT NULL;
