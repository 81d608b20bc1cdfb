package org.lwm2mbackend.leshan;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.leshan.core.model.ObjectLoader;
import org.eclipse.leshan.core.model.ObjectModel;
import org.eclipse.leshan.core.model.ResourceModel;
import org.eclipse.leshan.core.model.ResourceModel.Operations;
import org.eclipse.leshan.core.model.ResourceModel.Type;

/**
 * The object models the server decodes with: Leshan's core objects (0-7, 21), IPSO Temperature (3303), and the DDF
 * files of the models folder when one is given (those win over the built-in ones of the same id and version).
 */
public final class ObjectModels {
    private ObjectModels() {
    }

    public static List<ObjectModel> load(String modelsFolder) {
        List<ObjectModel> models = new ArrayList<>(ObjectLoader.loadAllDefault());
        models.add(temperature());
        if (modelsFolder != null) {
            File dir = new File(modelsFolder);
            if (!dir.isDirectory())
                throw new IllegalArgumentException("--models-folder: " + modelsFolder + " is not a directory");
            List<ObjectModel> extra = ObjectLoader.loadObjectsFromDir(dir, true);
            models.removeIf(m -> extra.stream().anyMatch(e -> e.id == m.id && e.version.equals(m.version)));
            models.addAll(extra);
        }
        return models;
    }

    /** IPSO Temperature 3303 version 1.0: the resources of the OMA registry's definition most sensors implement. */
    static ObjectModel temperature() {
        return new ObjectModel(3303, "Temperature", "Temperature sensor", "1.0", true, false,
                new ResourceModel(5700, "Sensor Value", Operations.R, false, true, Type.FLOAT, "", "", ""),
                new ResourceModel(5601, "Min Measured Value", Operations.R, false, false, Type.FLOAT, "", "", ""),
                new ResourceModel(5602, "Max Measured Value", Operations.R, false, false, Type.FLOAT, "", "", ""),
                new ResourceModel(5603, "Min Range Value", Operations.R, false, false, Type.FLOAT, "", "", ""),
                new ResourceModel(5604, "Max Range Value", Operations.R, false, false, Type.FLOAT, "", "", ""),
                new ResourceModel(5605, "Reset Min and Max Measured Values", Operations.E, false, false, Type.NONE, "",
                        "", ""),
                new ResourceModel(5701, "Sensor Units", Operations.R, false, false, Type.STRING, "", "", ""),
                new ResourceModel(5750, "Application Type", Operations.RW, false, false, Type.STRING, "", "", ""));
    }
}
